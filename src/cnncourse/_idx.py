"""Reader for the IDX format that MNIST and Fashion-MNIST ship in (Section 7.6).

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
values in C order. The magic is ``0x00 0x00 <dtype code> <number of dimensions>``, so
label files start with ``0x00000801`` (2049) and image files with ``0x00000803`` (2051).
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["parse_idx", "read_idx"]

# IDX dtype codes (the third magic byte); multi-byte values are big-endian.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, name: str = "<bytes>", ndim: int | None = None) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file (Section 7.6).

    Args:
        raw: the whole file's contents.
        name: what to call the data in error messages, usually its path.
        ndim: the number of dimensions the caller expects (3 for images, 1 for labels).

    Returns:
        A native-byte-order array with the shape stored in the header.

    Raises:
        ValueError: wrong magic number, unknown dtype code, unexpected rank, a truncated
            header or body, or trailing bytes after the last value.
    """
    if len(raw) < 4:
        raise ValueError(f"read_idx: {name} is truncated: {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(
            f"read_idx: {name} has magic number 0x{magic:08x}, expected 0x0000TTNN "
            "(two zero bytes, a dtype code, a rank); is it an IDX file? gzip files must end in .gz"
        )
    code, rank = raw[2], raw[3]
    if code not in _DTYPES:
        raise ValueError(f"read_idx: {name} has unknown IDX dtype code 0x{code:02x}, "
                         f"expected one of {', '.join(f'0x{c:02x}' for c in _DTYPES)}")
    if rank == 0 or (ndim is not None and rank != ndim):
        want = f"{ndim}" if ndim is not None else "at least 1"
        raise ValueError(f"read_idx: {name} stores a {rank}-D array, expected {want} dimensions")
    header = 4 + 4 * rank
    if len(raw) < header:
        raise ValueError(f"read_idx: {name} is truncated inside its header "
                         f"({len(raw)} of {header} header bytes)")
    dims = struct.unpack(f">{rank}I", raw[4:header])
    dtype = _DTYPES[code]
    count = math.prod(dims)
    expected = count * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise ValueError(f"read_idx: {name} is truncated: header says shape {dims} "
                         f"({expected} bytes of data), found {found} bytes; delete it and download again")
    if found > expected:
        raise ValueError(f"read_idx: {name} has {found - expected} bytes after the {count} values "
                         f"its header announces (shape {dims}); the file is corrupt")
    values = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return values.reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed when its name ends in ``.gz`` (Section 7.6).

    Args:
        path: the file to read.
        ndim: the number of dimensions expected (3 for images, 1 for labels), or None.

    Returns:
        The stored array (see :func:`parse_idx`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the gzip stream or the IDX content is damaged; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no file {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is not a complete gzip file ({err}); "
                         "delete it and download again") from err
    return parse_idx(raw, name=str(path), ndim=ndim)
