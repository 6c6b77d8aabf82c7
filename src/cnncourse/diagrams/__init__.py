"""Architecture diagrams drawn from the model objects themselves (Section 7.6, Sections 8.1-8.6).

``draw_network(model, input_shape)`` draws one network or block; ``draw_networks`` draws
several side by side. ``labels`` says what goes in each box, ``layout`` where the boxes go,
``draw`` turns the scene into a figure. ``channels`` pictures Section 7.4's channel arithmetic
(``draw_multi_in``, ``draw_multi_in_out``, ``draw_1x1_as_matmul``) from real tensors.
"""

from .channels import draw_1x1_as_matmul, draw_multi_in, draw_multi_in_out
from .draw import draw_network, draw_networks

__all__ = ["draw_network", "draw_networks", "draw_multi_in", "draw_multi_in_out", "draw_1x1_as_matmul"]
