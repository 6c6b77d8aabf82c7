"""Plausible wrong answers to problem set 2 (padding, stride and channels; Sections 7.3-7.4).

Each mutant replaces whole answer cells (by grade_id) with what a student might really write;
the hidden tests must take at least one point from every one of them. ``PARTIAL`` is a
student who solved some parts and left the others as released.
"""

_CONV_OUT_SIZE = '''
def conv_out_size(input_size: int, kernel_size: int, padding: int = 0, stride: int = 1,
                  dilation: int = 1) -> int:
    span = {span}
    if span > input_size + 2 * padding:
        raise ValueError("kernel does not fit")
    return {formula}
'''


def _conv_out_size(formula: str, span: str = "dilation * (kernel_size - 1) + 1") -> str:
    return _CONV_OUT_SIZE.format(span=span, formula=formula)


_SAME_PADDING = '''
def same_padding(kernel_size: int, dilation: int = 1) -> int:
{body}
'''

_MULTI_IN_OUT = '''
def corr2d_terms(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
{body}


def corr2d_multi_in_out_student(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return corr2d_terms(X, K).sum(dim=1)
'''

_KERNEL_MATRIX = "    return K.reshape(K.shape[0], K.shape[1])"
_PIXEL_MATRIX = "    c_in, h, w = X.shape\n    return X.reshape(c_in, h * w)"
_CONV1X1 = '''
def kernel_matrix(K: torch.Tensor) -> torch.Tensor:
{kernel}


def pixel_matrix(X: torch.Tensor) -> torch.Tensor:
{pixels}


def conv1x1_as_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    c_in, h, w = X.shape
    Y = kernel_matrix(K) @ pixel_matrix(X)
    return Y.reshape(-1, h, w)
'''


def _conv1x1(kernel: str = _KERNEL_MATRIX, pixels: str = _PIXEL_MATRIX) -> str:
    """The reference factors with one of them swapped for a mistake (and the released product)."""
    return _CONV1X1.format(kernel=kernel, pixels=pixels)

_MADDS = '''
def conv_madds(in_channels: int, out_channels: int, height: int, width: int, kernel_height: int,
               kernel_width: int, padding: int = 0, stride: int = 1) -> int:
{body}
'''

MUTANTS: dict[str, dict[str, str]] = {
    # Part 1: output size
    "out_size_forgot_plus_one": {"conv_out_size_answer": _conv_out_size(
        "(input_size + 2 * padding - span) // stride")},
    "out_size_padding_one_side": {"conv_out_size_answer": _conv_out_size(
        "(input_size + padding - span) // stride + 1")},
    "out_size_dilation_ignored": {"conv_out_size_answer": _conv_out_size(
        "(input_size + 2 * padding - kernel_size) // stride + 1", span="kernel_size")},
    "out_size_dilation_times_kernel_size": {"conv_out_size_answer": _conv_out_size(
        "(input_size + 2 * padding - dilation * kernel_size) // stride + 1", span="dilation * kernel_size")},
    "out_size_ceil_instead_of_floor": {"conv_out_size_answer": _conv_out_size(
        "-(-(input_size + 2 * padding - span) // stride) + 1")},
    "out_size_true_division": {"conv_out_size_answer": _conv_out_size(
        "int((input_size + 2 * padding - span) / stride + 1.5)")},
    "out_size_no_error_for_oversized_kernel": {"conv_out_size_answer": '''
def conv_out_size(input_size: int, kernel_size: int, padding: int = 0, stride: int = 1,
                  dilation: int = 1) -> int:
    return (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
'''},
    # Part 2: same padding
    "same_padding_ignores_dilation": {"same_padding_answer": _SAME_PADDING.format(body='''
    if kernel_size % 2 == 0:
        raise ValueError("even kernels cannot keep the size")
    return (kernel_size - 1) // 2'''),
    },
    "same_padding_half_kernel": {"same_padding_answer": _SAME_PADDING.format(
        body="    return dilation * kernel_size // 2")},
    "same_padding_even_kernels_always_raise": {"same_padding_answer": _SAME_PADDING.format(body='''
    if kernel_size % 2 == 0:
        raise ValueError("even kernels cannot keep the size")
    return dilation * (kernel_size - 1) // 2'''),
    },
    "same_padding_never_raises": {"same_padding_answer": _SAME_PADDING.format(
        body="    return dilation * (kernel_size - 1) // 2")},
    # Part 3: several channels, as their single-channel terms
    "multi_in_out_true_convolution": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    K = torch.flip(K, dims=(2, 3))
    return torch.stack([torch.stack([corr2d(x, k) for x, k in zip(X, K_o)]) for K_o in K])'''),
    },
    "multi_in_out_terms_already_summed": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return torch.stack([sum(corr2d(x, k) for x, k in zip(X, K_o)) for K_o in K])'''),
    },
    "multi_in_out_conv2d_shortcut": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return F.conv2d(X.unsqueeze(0), K).squeeze(0)'''),
    },
    "multi_in_out_input_channels_first": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return torch.stack([torch.stack([corr2d(x, k) for k in K[:, i]]) for i, x in enumerate(X)])'''),
    },
    "multi_in_out_kernel_axes_swapped": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    c_in, c_out = X.shape[0], K.shape[0]
    return torch.stack([torch.stack([corr2d(X[i], K[i, o]) for i in range(c_in)]) for o in range(c_out)])'''),
    },
    "multi_in_out_first_channel_only": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return torch.stack([torch.stack([corr2d(X[0], k) for k in K_o]) for K_o in K])'''),
    },
    "multi_in_out_first_kernel_only": {"multi_in_out_answer": _MULTI_IN_OUT.format(body='''
    return torch.stack([torch.stack([corr2d(x, K_o[0]) for x in X]) for K_o in K])'''),
    },
    # Part 4: 1x1 convolution as a matrix product, by its two factors
    "conv1x1_weight_reshaped_transposed": {"conv1x1_answer": _conv1x1(
        kernel="    return K.reshape(K.shape[1], K.shape[0]).T")},
    "conv1x1_weight_transposed": {"conv1x1_answer": _conv1x1(kernel="    return K[:, :, 0, 0].T")},
    "conv1x1_weight_squeezed": {"conv1x1_answer": _conv1x1(kernel="    return K.squeeze()")},
    "conv1x1_pixels_reshaped_wrong": {"conv1x1_answer": _conv1x1(
        pixels="    c_in, h, w = X.shape\n    return X.reshape(h * w, c_in).T")},
    "conv1x1_pixels_channels_last_relabelled": {"conv1x1_answer": _conv1x1(
        pixels="    c_in, h, w = X.shape\n    return X.permute(1, 2, 0).reshape(c_in, h * w)")},
    "conv1x1_pixels_column_by_column": {"conv1x1_answer": _conv1x1(
        pixels="    c_in, h, w = X.shape\n    return X.transpose(1, 2).reshape(c_in, h * w)")},
    "conv1x1_pixels_one_row_per_pixel": {"conv1x1_answer": _conv1x1(
        pixels="    c_in, h, w = X.shape\n    return X.reshape(c_in, h * w).T")},
    "conv1x1_conv2d_shortcut": {"conv1x1_answer": _conv1x1(
        kernel="    return K", pixels="    return X") + '''

def conv1x1_as_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None], K)[0]
'''},
    # Part 5: multiply-adds
    "madds_input_size_instead_of_output": {"conv_madds_answer": _MADDS.format(body='''
    return out_channels * height * width * in_channels * kernel_height * kernel_width'''),
    },
    "madds_forgot_input_channels": {"conv_madds_answer": _MADDS.format(body='''
    out_height = (height + 2 * padding - kernel_height) // stride + 1
    out_width = (width + 2 * padding - kernel_width) // stride + 1
    return out_channels * out_height * out_width * kernel_height * kernel_width'''),
    },
    "madds_padding_one_side": {"conv_madds_answer": _MADDS.format(body='''
    out_height = (height + padding - kernel_height) // stride + 1
    out_width = (width + padding - kernel_width) // stride + 1
    return out_channels * out_height * out_width * in_channels * kernel_height * kernel_width'''),
    },
    "madds_stride_ignored": {"conv_madds_answer": _MADDS.format(body='''
    out_height = height + 2 * padding - kernel_height + 1
    out_width = width + 2 * padding - kernel_width + 1
    return out_channels * out_height * out_width * in_channels * kernel_height * kernel_width'''),
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
