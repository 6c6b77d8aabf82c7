"""Plausible wrong answers to problem set 2 (padding, stride and channels; Sections 7.3-7.4).

Each mutant replaces whole answer cells (by grade_id) with what a student might really write;
the hidden tests must take at least one point from every one of them. ``PARTIAL`` is a
student who solved some parts and left the others as released.
"""

_CONV_OUT_SIZE = '''
def conv_out_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    span = {span}
    if span > n + 2 * p:
        raise ValueError("kernel does not fit")
    return {formula}
'''


def _conv_out_size(formula: str, span: str = "d * (k - 1) + 1") -> str:
    return _CONV_OUT_SIZE.format(span=span, formula=formula)


_SAME_PADDING = '''
def same_padding(k: int, d: int = 1) -> int:
{body}
'''

_MULTI_IN_OUT = '''
def corr2d_multi_in_out_student(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
{body}
'''

_CONV1X1 = '''
def conv1x1_as_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    c_in, h, w = X.shape
    c_out = K.shape[0]
{body}
'''

_MADDS = '''
def conv_madds(c_in: int, c_out: int, h_in: int, w_in: int, k_h: int, k_w: int,
               p: int = 0, s: int = 1) -> int:
{body}
'''

MUTANTS: dict[str, dict[str, str]] = {
    # Part 1: output size
    "out_size_forgot_plus_one": {"conv_out_size_answer": _conv_out_size("(n + 2 * p - span) // s")},
    "out_size_padding_one_side": {"conv_out_size_answer": _conv_out_size("(n + p - span) // s + 1")},
    "out_size_dilation_ignored": {"conv_out_size_answer": _conv_out_size("(n + 2 * p - k) // s + 1",
                                                                         span="k")},
    "out_size_dilation_times_k": {"conv_out_size_answer": _conv_out_size("(n + 2 * p - d * k) // s + 1",
                                                                         span="d * k")},
    "out_size_ceil_instead_of_floor": {"conv_out_size_answer": _conv_out_size(
        "-(-(n + 2 * p - span) // s) + 1")},
    "out_size_true_division": {"conv_out_size_answer": _conv_out_size("int((n + 2 * p - span) / s + 1.5)")},
    "out_size_no_error_for_oversized_kernel": {"conv_out_size_answer": '''
def conv_out_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
'''},
    # Part 2: same padding
    "same_padding_ignores_dilation": {"same_padding_answer": _SAME_PADDING.format(body='''
    if k % 2 == 0:
        raise ValueError("even kernels cannot keep the size")
    return (k - 1) // 2'''),
    },
    "same_padding_half_kernel": {"same_padding_answer": _SAME_PADDING.format(body="    return d * k // 2")},
    "same_padding_even_kernels_always_raise": {"same_padding_answer": _SAME_PADDING.format(body='''
    if k % 2 == 0:
        raise ValueError("even kernels cannot keep the size")
    return d * (k - 1) // 2'''),
    },
    "same_padding_never_raises": {"same_padding_answer": _SAME_PADDING.format(
        body="    return d * (k - 1) // 2")},
    # Part 3: several channels
    "multi_in_out_true_convolution": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    K = torch.flip(K, dims=(2, 3))
    return torch.stack([sum(corr2d(x, k) for x, k in zip(X, K_o)) for K_o in K])'''),
    },
    "multi_in_out_sums_over_outputs": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    maps = torch.stack([torch.stack([corr2d(x, k) for x, k in zip(X, K_o)]) for K_o in K])
    return maps.sum(dim=0)'''),
    },
    "multi_in_out_kernel_axes_swapped": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    c_in, c_out = X.shape[0], K.shape[0]
    return torch.stack([sum(corr2d(X[i], K[i, o]) for i in range(c_in)) for o in range(c_out)])'''),
    },
    "multi_in_out_first_channel_only": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return torch.stack([corr2d(X[0], K_o[0]) for K_o in K])'''),
    },
    "multi_in_out_calls_conv2d": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return F.conv2d(X.unsqueeze(0), K).squeeze(0)'''),
    },
    # Part 4: 1x1 convolution as a matrix product
    "conv1x1_weight_reshaped_transposed": {"conv1x1_answer": _CONV1X1.format(body='''
    return (K.reshape(c_in, c_out).T @ X.reshape(c_in, h * w)).reshape(c_out, h, w)'''),
    },
    "conv1x1_result_reshaped_not_transposed": {"conv1x1_answer": _CONV1X1.format(body='''
    Y = X.reshape(c_in, h * w).T @ K.reshape(c_out, c_in).T
    return Y.reshape(c_out, h, w)'''),
    },
    "conv1x1_pixels_reshaped_wrong": {"conv1x1_answer": _CONV1X1.format(body='''
    Y = X.reshape(h * w, c_in) @ K.reshape(c_out, c_in).T
    return Y.T.reshape(c_out, h, w)'''),
    },
    "conv1x1_loop_over_output_channels": {"conv1x1_answer": _CONV1X1.format(body='''
    rows = [K[o, :, 0, 0] @ X.reshape(c_in, h * w) for o in range(c_out)]
    return torch.stack(rows).reshape(c_out, h, w)'''),
    },
    "conv1x1_calls_conv2d": {"conv1x1_answer": _CONV1X1.format(body='''
    return F.conv2d(X[None], K)[0]'''),
    },
    # Part 5: multiply-adds
    "madds_input_size_instead_of_output": {"conv_madds_answer": _MADDS.format(body='''
    return c_out * h_in * w_in * c_in * k_h * k_w'''),
    },
    "madds_forgot_input_channels": {"conv_madds_answer": _MADDS.format(body='''
    h_out = (h_in + 2 * p - k_h) // s + 1
    w_out = (w_in + 2 * p - k_w) // s + 1
    return c_out * h_out * w_out * k_h * k_w'''),
    },
    "madds_padding_one_side": {"conv_madds_answer": _MADDS.format(body='''
    h_out = (h_in + p - k_h) // s + 1
    w_out = (w_in + p - k_w) // s + 1
    return c_out * h_out * w_out * c_in * k_h * k_w'''),
    },
    "madds_stride_ignored": {"conv_madds_answer": _MADDS.format(body='''
    h_out = h_in + 2 * p - k_h + 1
    w_out = w_in + 2 * p - k_w + 1
    return c_out * h_out * w_out * c_in * k_h * k_w'''),
    },
    # Part 6: concept
    "concept_wrong_choice": {"concept_answer": 'answer_1x1 = "A"\n'},
    "concept_second_wrong_choice": {"concept_answer": 'answer_1x1 = "B"\n'},
}

# Solves parts 1 (both cells), 3 and 6: 2 + 1 + 3 + 1 points.
PARTIAL: dict = {
    "solved": ["conv_out_size_answer", "multi_in_out_answer", "concept_answer"],
    "expected_score": 7.0,
    "replacements": {},
}
