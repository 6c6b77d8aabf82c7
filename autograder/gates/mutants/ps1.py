"""Wrong answers to ps1 (cross-correlation and edge detectors) that its tests must catch."""

_RELEASED = '''

def corr2d_as_matmul_student(X, K):
    out_h, out_w = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    M = corr2d_matrix(X.shape, K)
    return (M @ X.reshape(-1)).reshape(out_h, out_w)
'''


def _matrix(kernel: str = "K", out: str = "h - kh + 1, w - kw + 1", row: str = "i * out_w + j",
            background: str = "torch.zeros(h, w)", flat: str = "placed.reshape(-1)", result: str = "M",
            dtype: str = "") -> str:
    """The reference corr2d_matrix with one piece swapped for a mistake (and the released product)."""
    return f'''def corr2d_matrix(input_shape, K):
    h, w = input_shape
    kh, kw = K.shape
    out_h, out_w = {out}
    M = torch.zeros(out_h * out_w, h * w{dtype})
    for i in range(out_h):
        for j in range(out_w):
            placed = {background}
            placed[i:i + kh, j:j + kw] = {kernel}
            M[{row}] = {flat}
    return {result}
''' + _RELEASED


def _one_hot(stack: str) -> str:
    """corr2d_matrix from corr2d of one-hot images, collected along the given ``dim``."""
    return f'''def corr2d_matrix(input_shape, K):
    h, w = input_shape
    outputs = [corr2d(e.reshape(h, w), K).reshape(-1) for e in torch.eye(h * w, dtype=K.dtype)]
    return torch.stack(outputs, {stack})
''' + _RELEASED


def _kernel(values: str) -> str:
    return f"second_derivative_kernel = torch.tensor({values})"


def _difference(body: str) -> str:
    return "def difference_kernel(d):\n" + body


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
    # 5. Cross-correlation as one matrix product: the matrix itself.
    "matrix_flipped_kernel": {"corr2d_as_matmul_answer": _matrix(kernel="K.flip((0, 1))")},
    "matrix_transposed": {"corr2d_as_matmul_answer": _matrix(result="M.T")},
    "matrix_output_one_too_small": {"corr2d_as_matmul_answer": _matrix(out="h - kh, w - kw")},
    "matrix_square_kernels_only": {"corr2d_as_matmul_answer": _matrix(out="h - kh + 1, w - kh + 1")},
    "matrix_rows_column_major": {"corr2d_as_matmul_answer": _matrix(row="j * out_h + i")},
    "matrix_row_index_uses_out_h": {"corr2d_as_matmul_answer": _matrix(row="i * out_h + j")},
    "matrix_image_laid_out_by_columns": {"corr2d_as_matmul_answer": _matrix(flat="placed.T.reshape(-1)")},
    "matrix_background_of_ones": {"corr2d_as_matmul_answer": _matrix(background="torch.ones(h, w)")},
    "matrix_integer_dtype": {"corr2d_as_matmul_answer": _matrix(dtype=", dtype=torch.long")},
    "matrix_not_flattened": {"corr2d_as_matmul_answer": _matrix(result="M.reshape(out_h, out_w, h, w)")},
    "matrix_one_hot_outputs_as_rows": {"corr2d_as_matmul_answer": _one_hot("dim=0")},
    # A right product without the matrix the part asks for: the released function edited to call corr2d.
    "matrix_missing_product_calls_corr2d": {"corr2d_as_matmul_answer": (
        "def corr2d_matrix(input_shape, K):\n    pass\n\n\n"
        "def corr2d_as_matmul_student(X, K):\n    return corr2d(X, K)\n")},
}

# Answers parts 1, 2 (Y_diag only), 3.1, 4 (the second-derivative kernel) and 5; leaves Y_diag_XT,
# Y_diag_KT, questions 3.2 and 3.3 and difference_kernel as released.
PARTIAL = {
    "solved": ["x_diag_answer", "y_diag_answer", "apply_k_answer", "second_derivative_answer",
               "corr2d_as_matmul_answer"],
    # test_x_diag 2 + test_y_diag 1 + test_apply_k 1 + test_second_derivative 1
    # + test_corr2d_as_matmul 2 + test_corr2d_matrix 1
    "expected_score": 8.0,
}
