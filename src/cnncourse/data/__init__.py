"""Image classification data for the chapter notebooks (Sections 7.6 and 8.1-8.6).

- :mod:`~cnncourse.data.loaders`: ``load_data`` and ``load_course_data`` (what chapters call),
  the offline digits, class names and resizing.
- :mod:`~cnncourse.data.fashion_mnist`: the cache folder, checksummed downloads and the IDX
  reader behind Fashion-MNIST.

Every name below is importable from here: ``from cnncourse import data``.
"""

from cnncourse.data.fashion_mnist import (
    FASHION_MNIST_SHA256,
    FASHION_MNIST_URL,
    cache_dir,
    download_file,
    fashion_mnist_cached,
    fetch_files,
    parse_idx,
    read_idx,
    sha256_file,
)
from cnncourse.data.loaders import (
    DATASETS,
    DIGITS_CLASSES,
    FASHION_MNIST_CLASSES,
    QUICK_SUBSET,
    DatasetInfo,
    load_course_data,
    load_data,
    load_digits_tensors,
    load_fashion_mnist_tensors,
    resize_images,
    text_labels,
)

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
    "fashion_mnist_cached",
    "load_data",
    "load_course_data",
    "FASHION_MNIST_URL",
    "FASHION_MNIST_SHA256",
    "cache_dir",
    "sha256_file",
    "download_file",
    "fetch_files",
    "parse_idx",
    "read_idx",
]
