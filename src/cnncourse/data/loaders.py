"""Loaders of the image classification data the chapter notebooks train on (Sections 7.6, 8.1-8.6).

Two datasets, both ten classes of one-channel images:

- ``"digits"``: scikit-learn's 1,797 handwritten 8x8 digit scans, bundled with the library,
  so it works offline. A fixed stratified split gives 1,437 training and 360 validation images.
- ``"fashion-mnist"``: the book's dataset, 60,000 training and 10,000 validation 28x28 images,
  read from the IDX files in the cache folder (downloaded and checksummed on first use).

Loaders yield ``(X, y)`` with ``X`` of shape ``(N, 1, H, W)`` (float32 in [0, 1]) and ``y`` of
shape ``(N,)`` (int64).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

from cnncourse._checks import check_tensor, positive_int, positive_pair
from cnncourse.data.fashion_mnist import (
    FASHION_MNIST_SHA256,
    FASHION_MNIST_URL,
    cache_dir,
    fashion_mnist_cached,
    fetch_files,
    read_idx,
)
from cnncourse.runtime import quick_mode

__all__ = [
    "DATASETS",
    "DIGITS_CLASSES",
    "QUICK_SUBSET",
    "FASHION_MNIST_CLASSES",
    "DatasetInfo",
    "text_labels",
    "resize_images",
    "load_digits_tensors",
    "load_fashion_mnist_tensors",
    "load_data",
    "load_course_data",
]

DATASETS = ("digits", "fashion-mnist")
DIGITS_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat",
                         "sandal", "shirt", "sneaker", "bag", "ankle boot")
_CLASSES = {"digits": DIGITS_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}

DIGITS_VAL_SIZE = 360  # 20% of 1,797, stratified; the remaining 1,437 are for training
_DIGITS_SPLIT_SEED = 0  # fixed: every student sees the same split whatever seed they train with
_DIGITS_MAX_VALUE = 16.0  # sklearn's digits count dark pixels in 4x4 blocks: 0..16
QUICK_SUBSET = (2048, 512)  # at most this many (train, validation) examples in quick mode
# Resizing a whole dataset up front costs memory (Fashion-MNIST at 224x224 would take 12 GB),
# so above this size the loader resizes each batch as it is drawn instead.
PRERESIZE_LIMIT_BYTES = 256 * 2**20


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Which dataset :func:`load_course_data` chose, and why (Section 7.6).

    Attributes:
        name: ``"digits"`` or ``"fashion-mnist"``.
        classes: the class names, indexed by label.
        reason: one sentence saying why this dataset was used.
    """

    name: str
    classes: tuple[str, ...]
    reason: str


def _check_name(who: str, name: object) -> str:
    if name not in DATASETS:
        raise ValueError(f"{who}: unknown dataset {name!r}; choose one of {', '.join(map(repr, DATASETS))}")
    return name  # type: ignore[return-value]


def text_labels(name: str, indices: int | Sequence[int] | torch.Tensor) -> list[str]:
    """Turn numeric labels into class names, like the book's ``text_labels`` (Section 7.6).

    Args:
        name: ``"digits"`` or ``"fashion-mnist"``.
        indices: one label or many (a list or a 1-D tensor).

    Returns:
        One class name per label.
    """
    classes = _CLASSES[_check_name("text_labels", name)]
    if isinstance(indices, torch.Tensor):
        indices = indices.reshape(-1).tolist()
    elif isinstance(indices, int):
        indices = [indices]
    out = []
    for i in indices:
        if not 0 <= int(i) < len(classes):
            raise ValueError(f"text_labels: label {i} is out of range for {name}; "
                             f"expected 0..{len(classes) - 1}")
        out.append(classes[int(i)])
    return out


def resize_images(X: torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """Resize a batch of images bilinearly, as the book's ``Resize`` transform does (Section 8.1).

    Args:
        X: images of shape ``(N, C, H, W)``.
        size: the new side length, or ``(height, width)``.

    Returns:
        A tensor of shape ``(N, C, height, width)``; unchanged when the size already matches.
    """
    check_tensor("resize_images", "X", X, ndim=4, layout="(N, C, H, W)")
    hw = positive_pair("resize_images", "size", size)
    if tuple(X.shape[-2:]) == hw:
        return X
    # antialias only matters (and only differs) when shrinking
    return F.interpolate(X, size=hw, mode="bilinear", align_corners=False, antialias=True)


def load_digits_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits, scaled to [0, 1] and split in two (Section 7.6).

    The split is stratified with a fixed seed, so it is the same on every machine.

    Returns:
        ``(X_train, y_train, X_val, y_val)``: images of shape ``(1437, 1, 8, 8)`` and
        ``(360, 1, 8, 8)`` (float32), labels of shape ``(1437,)`` and ``(360,)`` (int64).
    """
    digits = load_digits()
    X = torch.as_tensor(digits.images / _DIGITS_MAX_VALUE, dtype=torch.float32)[:, None]  # (1797, 1, 8, 8)
    y = torch.as_tensor(digits.target, dtype=torch.int64)  # (1797,)
    train_idx, val_idx = _digits_split(digits.target)
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]


def _digits_split(target: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices of the fixed stratified (train, validation) split of the digits."""
    train_idx, val_idx = train_test_split(np.arange(len(target)), test_size=DIGITS_VAL_SIZE,
                                          stratify=target, random_state=_DIGITS_SPLIT_SEED)
    return torch.as_tensor(train_idx), torch.as_tensor(val_idx)


def load_fashion_mnist_tensors(root: str | None = None, *, download: bool = True, progress: bool = True,
                               base_url: str | None = None, checksums: Mapping[str, str] | None = None,
                               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fashion-MNIST from the cache folder, downloading it first if needed (Section 7.6).

    Args:
        root: cache folder; default ``$CNNCOURSE_DATA`` or ``~/.cache/cnncourse``.
        download: fetch missing files from ``base_url``.
        progress: show download progress.
        base_url: the mirror to download from; default :data:`FASHION_MNIST_URL`.
        checksums: file name -> SHA-256 digest; default the published digests
            (:data:`FASHION_MNIST_SHA256`). Tests pass their own for generated files.

    Returns:
        ``(X_train, y_train, X_val, y_val)``: images ``(60000, 1, 28, 28)`` and
        ``(10000, 1, 28, 28)`` float32 in [0, 1], labels int64.

    Raises:
        ValueError: a file is damaged, or image and label counts disagree.
        ConnectionError, FileNotFoundError: see :func:`cnncourse.data.fashion_mnist.fetch_files`.
    """
    base_url = FASHION_MNIST_URL if base_url is None else base_url
    checksums = FASHION_MNIST_SHA256 if checksums is None else checksums
    paths = fetch_files(base_url, checksums, root, download=download, progress=progress)
    out = []
    for split in ("train", "t10k"):
        images_path = paths[f"{split}-images-idx3-ubyte.gz"]
        labels_path = paths[f"{split}-labels-idx1-ubyte.gz"]
        images, labels = read_idx(images_path, ndim=3), read_idx(labels_path, ndim=1)
        if len(images) != len(labels):
            raise ValueError(f"load_fashion_mnist_tensors: {images_path} holds {len(images)} images "
                             f"but {labels_path} holds {len(labels)} labels")
        X = torch.from_numpy(images).unsqueeze(1).to(torch.float32) / 255.0  # (N, 1, 28, 28)
        out += [X, torch.from_numpy(labels).to(torch.int64)]
    return out[0], out[1], out[2], out[3]


def _limit(who: str, subset: int | Sequence[int] | None) -> tuple[int | None, int | None]:
    if subset is None:
        return None, None
    n_train, n_val = positive_pair(who, "subset", subset)
    return n_train, n_val


class _ResizeBatch:
    """A collate function that stacks examples and resizes the batch (for large resizes)."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    def __call__(self, batch: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.stack([x for x, _ in batch])  # (B, 1, h, w)
        y = torch.stack([t for _, t in batch])  # (B,)
        return resize_images(X, self.size), y  # (B, 1, H, W)


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, size: tuple[int, int] | None,
            shuffle: bool, seed: int) -> DataLoader:
    collate = None
    if size is not None:
        if X.shape[0] * X.shape[1] * size[0] * size[1] * X.element_size() <= PRERESIZE_LIMIT_BYTES:
            X = resize_images(X, size)
        else:
            collate = _ResizeBatch(size)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, generator=generator,
                      num_workers=0, collate_fn=collate)


def load_data(name: str, batch_size: int, resize: int | Sequence[int] | None = None, *,
              subset: int | Sequence[int] | None = None, seed: int = 0, root: str | None = None,
              download: bool = True) -> tuple[DataLoader, DataLoader]:
    """Training and validation loaders for one of :data:`DATASETS` (Sections 7.6, 8.1-8.6).

    Args:
        name: ``"digits"`` (offline) or ``"fashion-mnist"`` (cached or downloaded).
        batch_size: examples per minibatch.
        resize: a side length or ``(height, width)`` to resize to bilinearly, e.g. 28 for LeNet
            on digits, 224 for AlexNet; None keeps 8x8 (digits) or 28x28 (Fashion-MNIST).
        subset: keep only the first examples of each split: an int for both, or
            ``(n_train, n_val)``; for quick runs.
        seed: seeds the training loader's shuffling, so epochs repeat exactly.
        root: Fashion-MNIST cache folder (default ``$CNNCOURSE_DATA`` or ``~/.cache/cnncourse``).
        download: whether Fashion-MNIST may be downloaded when it is not cached.

    Returns:
        ``(train_loader, val_loader)``; the training loader reshuffles every epoch, the
        validation loader keeps its order.
    """
    who = "load_data"
    _check_name(who, name)
    positive_int(who, "batch_size", batch_size)
    size = None if resize is None else positive_pair(who, "resize", resize)
    n_train, n_val = _limit(who, subset)
    if name == "digits":
        X_train, y_train, X_val, y_val = load_digits_tensors()
    else:
        X_train, y_train, X_val, y_val = load_fashion_mnist_tensors(root, download=download)
    return (_loader(X_train[:n_train], y_train[:n_train], batch_size, size, shuffle=True, seed=seed),
            _loader(X_val[:n_val], y_val[:n_val], batch_size, size, shuffle=False, seed=seed))


def load_course_data(batch_size: int, resize: int | Sequence[int] | None = None, *,
                     quick: bool | None = None, subset: int | Sequence[int] | None = None,
                     ) -> tuple[DataLoader, DataLoader, DatasetInfo]:
    """The loaders a chapter notebook trains on, Fashion-MNIST when possible (Sections 7.6, 8.1-8.6).

    Fashion-MNIST is used when it is cached, or (in laptop and book mode, never in quick mode) when it
    can be downloaded.
    Otherwise the offline digits are used. Either way one line on stdout says which dataset
    was chosen and why: the switch is never silent.

    Args:
        batch_size: examples per minibatch.
        resize: as in :func:`load_data`.
        quick: quick mode (small subsets, never downloads); None reads ``CNNCOURSE_QUICK``.
        subset: as in :func:`load_data`; quick mode defaults to at most 2,048 / 512 examples.

    Returns:
        ``(train_loader, val_loader, info)``, where ``info`` names the dataset, its classes and
        the reason it was chosen.
    """
    quick = quick_mode() if quick is None else bool(quick)
    if quick and subset is None:
        subset = QUICK_SUBSET
    folder = cache_dir()
    name, reason = "digits", ""
    if fashion_mnist_cached():
        name, reason = "fashion-mnist", f"found in the cache {folder}"
    elif quick:
        reason = (f"Fashion-MNIST is not cached in {folder} and quick mode (CNNCOURSE_QUICK) never "
                  "downloads")
    else:
        try:
            fetch_files(FASHION_MNIST_URL, FASHION_MNIST_SHA256, folder, timeout=10.0)
            name, reason = "fashion-mnist", f"downloaded into {folder}"
        except (ConnectionError, ValueError) as err:
            reason = f"Fashion-MNIST could not be downloaded: {err}"
    if name == "fashion-mnist":
        try:
            train_loader, val_loader = load_data(name, batch_size, resize, subset=subset, root=str(folder),
                                                 download=False)
        except (ValueError, FileNotFoundError) as err:  # a damaged cache
            name, reason = "digits", f"the cached Fashion-MNIST is unusable: {err}"
    if name == "digits":
        print(f"Using the offline digits dataset (scikit-learn, 8x8 scans) instead of Fashion-MNIST: "
              f"{reason}.")
        train_loader, val_loader = load_data(name, batch_size, resize, subset=subset)
    else:
        print(f"Using Fashion-MNIST ({reason}).")
    return train_loader, val_loader, DatasetInfo(name, _CLASSES[name], reason)
