"""Wrong answers to ps1 (cross-correlation and edge detectors) that its tests must catch."""

_MATMUL_HEAD = '''def corr2d_as_matmul_student(X, K):
    h, w = X.shape
    kh, kw = K.shape
'''


def _toeplitz(kernel: str = "K", out: str = "h - kh + 1, w - kw + 1",
              result: str = "(M @ X.reshape(-1)).reshape(out_h, out_w)") -> str:
    """A matrix-product answer with one piece swapped for a mistake."""
    return _MATMUL_HEAD + f'''    out_h, out_w = {out}
    M = torch.zeros(out_h * out_w, h * w)
    for i in range(out_h):
        for j in range(out_w):
            placed = torch.zeros(h, w)
            placed[i:i + kh, j:j + kw] = {kernel}
            M[i * out_w + j] = placed.reshape(-1)
    return {result}
'''


def _kernel(values: str) -> str:
    return f"second_derivative_kernel = torch.tensor({values})"


_WINDOW_SUMS = '''    Y = torch.zeros(h - kh + 1, w - kw + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
'''


def _difference(body: str) -> str:
    return "def difference_kernel(d):\n" + body


_PER_PIXEL = '''    Y = torch.zeros(h - kh + 1, w - kw + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i:i + kh, j:j + kw].reshape(-1) @ K.reshape(-1)
    return Y
'''
_CONV2D = "    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]\n"

MUTANTS = {
    # 1. X_diag: images without diagonal edges, or not a fit image at all.
    "x_diag_vertical_stripes": {"x_diag_answer": "X_diag = torch.ones(6, 8)\nX_diag[:, 2:6] = 0\nX_diag"},
    "x_diag_horizontal_stripes": {"x_diag_answer": "X_diag = torch.ones(8, 6)\nX_diag[2:6, :] = 0\nX_diag"},
    "x_diag_constant": {"x_diag_answer": "X_diag = torch.ones(8, 8)"},
    "x_diag_random_noise": {"x_diag_answer": "X_diag = torch.rand(8, 8)"},
    "x_diag_smooth_ramp": {"x_diag_answer": "X_diag = torch.arange(8.0)[:, None] + torch.arange(8.0)"},
    "x_diag_too_small": {"x_diag_answer": "X_diag = torch.eye(4)"},
    "x_diag_integer_dtype": {"x_diag_answer": "X_diag = torch.eye(8, dtype=torch.int64)"},
    # 2. Applying K.
    "y_diag_flipped_kernel_true_convolution": {"y_diag_answer": "Y_diag = corr2d(X_diag, K.flip(1))"},
    "y_diag_xt_not_transposed": {"y_diag_xt_answer": "Y_diag_XT = corr2d(X_diag, K)"},
    "y_diag_xt_transposed_output": {"y_diag_xt_answer": "Y_diag_XT = corr2d(X_diag, K).T"},
    "y_diag_kt_is_y_diag_transposed": {"y_diag_kt_answer": "Y_diag_KT = Y_diag.T"},
    "y_diag_kt_kernel_not_transposed": {"y_diag_kt_answer": "Y_diag_KT = corr2d(X_diag, K)"},
    "y_diag_kt_image_transposed_instead": {"y_diag_kt_answer": "Y_diag_KT = corr2d(X_diag.T, K)"},
    # 3. Conceptual questions: the most tempting wrong letter, and an answer that is not a letter.
    "apply_k_all_zeros": {"apply_k_answer": 'answer_apply_K = "A"'},
    "apply_k_two_letters": {"apply_k_answer": 'answer_apply_K = "B or C"'},
    "transpose_x_is_transpose": {"transpose_x_answer": 'answer_transpose_X = "A"'},
    "transpose_x_shape_mixed_up": {"transpose_x_answer": 'answer_transpose_X = "D"'},
    "transpose_k_same_kernel": {"transpose_k_answer": 'answer_transpose_K = "B"'},
    "transpose_k_right_neighbours": {"transpose_k_answer": 'answer_transpose_K = "A"'},
    # 4. Kernel design.
    "second_derivative_first_difference": {"second_derivative_answer": _kernel("[[1.0, -1.0, 0.0]]")},
    "second_derivative_all_zeros": {"second_derivative_answer": _kernel("[[0.0, 0.0, 0.0]]")},
    "second_derivative_column": {"second_derivative_answer": _kernel("[[1.0], [-2.0], [1.0]]")},
    "second_derivative_averaging": {"second_derivative_answer": _kernel("[[0.25, 0.5, 0.25]]")},
    # Kernels that fit the two examples the prompt gives (d = 1 and d = 2) but not the idea.
    "difference_kernel_table_then_ends": {"difference_kernel_answer": _difference(
        "    known = {1: [1.0, -1.0], 2: [1.0, -2.0, 1.0]}\n"
        "    return torch.tensor([known.get(d, [1.0] + [0.0] * (d - 1) + [-1.0])])\n")},
    "difference_kernel_alternating_ones": {"difference_kernel_answer": _difference(
        "    return torch.tensor([[(-1.0) ** i for i in range(d + 1)]])\n")},
    "difference_kernel_linear_middle": {"difference_kernel_answer": _difference(
        "    middle = [-float(d)] * (d - 1) if d > 1 else []\n"
        "    return torch.tensor([[1.0] + middle + [1.0 if d > 1 else -1.0]])\n")},
    "difference_kernel_one_too_wide": {"difference_kernel_answer": _difference(
        "    c = torch.tensor([1.0])\n"
        "    for _ in range(d):\n"
        "        c = torch.cat([c, torch.zeros(1)]) - torch.cat([torch.zeros(1), c])\n"
        "    return torch.cat([c, torch.zeros(1)])[None]\n")},
    "difference_kernel_one_difference_short": {"difference_kernel_answer": _difference(
        "    c = torch.tensor([1.0])\n"
        "    for _ in range(d - 1):\n"
        "        c = torch.cat([c, torch.zeros(1)]) - torch.cat([torch.zeros(1), c])\n"
        "    return torch.cat([c, torch.zeros(1)])[None]\n")},
    # 5. Cross-correlation as a matrix product.
    "matmul_flipped_kernel": {"corr2d_as_matmul_answer": _toeplitz(kernel="K.flip((0, 1))")},
    "matmul_output_transposed": {
        "corr2d_as_matmul_answer": _toeplitz(result="(M @ X.reshape(-1)).reshape(out_w, out_h).T")},
    "matmul_output_one_too_small": {"corr2d_as_matmul_answer": _toeplitz(out="h - kh, w - kw")},
    "matmul_square_kernels_only": {"corr2d_as_matmul_answer": _toeplitz(out="h - kh + 1, w - kh + 1")},
    "matmul_calls_corr2d": {"corr2d_as_matmul_answer": _MATMUL_HEAD + "    return corr2d(X, K)\n"},
    "matmul_one_product_per_pixel": {"corr2d_as_matmul_answer": _MATMUL_HEAD + _PER_PIXEL},
    "matmul_uses_conv2d": {"corr2d_as_matmul_answer": _MATMUL_HEAD + _CONV2D},
    # Tricks that pass a count of matrix-product calls without computing the output by one product.
    "matmul_window_sums_and_an_identity_product": {"corr2d_as_matmul_answer": _MATMUL_HEAD + _WINDOW_SUMS
        + "    return (torch.eye(Y.numel()) @ Y.reshape(-1)).reshape(Y.shape)\n"},
    "matmul_window_sums_and_a_dummy_product": {"corr2d_as_matmul_answer": _MATMUL_HEAD + _WINDOW_SUMS
        + "    return Y * (torch.ones(1) @ torch.ones(1))\n"},
}

# Answers parts 1, 2 (Y_diag only), 3.1, 4 (the second-derivative kernel) and 5; leaves Y_diag_XT,
# Y_diag_KT, questions 3.2 and 3.3 and difference_kernel as released.
PARTIAL = {
    "solved": ["x_diag_answer", "y_diag_answer", "apply_k_answer", "second_derivative_answer",
               "corr2d_as_matmul_answer"],
    # test_x_diag 2 + test_y_diag 1 + test_apply_k 1 + test_second_derivative 1
    # + test_corr2d_as_matmul 2 + test_corr2d_as_matmul_one_product 1
    "expected_score": 8.0,
}
