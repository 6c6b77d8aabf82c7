"""What runs inside the two grading kernels, and the protocol they speak (Sections 7.1-8.6).

``python -m autograder grade`` runs a submission's answer cells in the *student kernel* and its
test cells in a clean *test kernel* that never runs student code. The modules here are the two
kernels' sides of that arrangement, one module per party or message:

* :mod:`.protocol`: markers, request names, entry points, the text codec and the code the grader
  sends to a kernel; the grader (which never imports torch) and both sides import it;
* :mod:`.student_side`: the student kernel's side, answering requests (``serve``);
* :mod:`.test_side`: the test kernel's side, student names as safe data or stand-ins
  (:mod:`.stand_ins` gives them their classes);
* :mod:`.wire`: safe data to and from a message's text; :mod:`.observation`: what a call returned.

The rule: test cells never import this package (they import :mod:`cnncourse.grading`, whose
:func:`~cnncourse.grading.observe` reaches :mod:`.test_side`); nothing here imports
:mod:`cnncourse.grading`; :mod:`.protocol` imports nothing but the standard library, and this
``__init__`` imports nothing, so that the grader can import the protocol without torch.
"""

__all__ = []
