"""Fashion-MNIST on disk: the cache folder, checksummed downloads and the IDX reader (Section 7.6).

Downloads stream into a temporary file next to the target, are hashed on the way, and are
renamed into place only when the SHA-256 digest matches: an interrupted or corrupt download
never leaves a file that looks complete.

An IDX file (the format MNIST and Fashion-MNIST ship in) is a 4-byte magic number, one
big-endian uint32 per dimension, then the values in C order. The magic is
``0x00 0x00 <dtype code> <number of dimensions>``, so label files start with ``0x00000801``
(2049) and image files with ``0x00000803`` (2051).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

__all__ = [
    "FASHION_MNIST_URL",
    "FASHION_MNIST_SHA256",
    "cache_dir",
    "fashion_mnist_cached",
    "sha256_file",
    "download_file",
    "fetch_files",
    "parse_idx",
    "read_idx",
]

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# Published SHA-256 digests of the four files on the mirror above. The same values appear,
# independently, in Britefury/batchup (batchup/datasets/fashion_mnist.py) and in Connor Olding's
# "mnists" download script. (They could not be checked against the files here: this machine has
# no route to the mirror. The dataset's authors publish MD5 sums, not SHA-256.)
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
}

_CHUNK = 1 << 16


def cache_dir(root: str | Path | None = None) -> Path:
    """Where downloaded data lives (Section 7.6).

    Args:
        root: an explicit folder; wins over everything else.

    Returns:
        ``root`` if given, else ``$CNNCOURSE_DATA`` if set, else ``$XDG_CACHE_HOME/cnncourse``,
        else ``~/.cache/cnncourse``. The folder is not created here.
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("CNNCOURSE_DATA"):
        return Path(os.environ["CNNCOURSE_DATA"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnncourse"


def fashion_mnist_cached(root: str | None = None) -> bool:
    """Whether all four Fashion-MNIST files are in the cache folder (not verified here; Section 7.6)."""
    folder = cache_dir(root)
    return all((folder / name).is_file() for name in FASHION_MNIST_SHA256)


def sha256_file(path: str | Path) -> str:
    """The hex SHA-256 digest of a file, read in chunks (Section 7.6)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offline_error(url: str, folder: Path, reason: object) -> ConnectionError:
    return ConnectionError(
        f"could not download {url} ({reason}): no network here? Copy the four Fashion-MNIST files into "
        f"{folder}, or train on the offline digits (load_data('digits'))"
    )


def download_file(url: str, dest: str | Path, sha256: str, *, progress: bool = True,
                  timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` atomically, checking its SHA-256 digest (Section 7.6).

    Args:
        url: any URL ``urllib`` opens (``http://``, ``https://``, ``file://``).
        dest: the final path; its folder is created if needed.
        sha256: the expected hex digest.
        progress: show a tqdm byte counter (on stdout).
        timeout: seconds to wait for the server before giving up.

    Returns:
        ``dest``.

    Raises:
        ConnectionError: the server could not be reached (the message suggests what to do).
        ValueError: the download was truncated or its checksum does not match.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    received = 0
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, file=sys.stdout,
                          disable=not progress, leave=False) as bar:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except http.client.IncompleteRead as err:
            raise ValueError(f"download_file: {url} was truncated after {received} bytes; "
                             "try again") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise _offline_error(url, dest.parent, getattr(err, "reason", err)) from err
        if total is not None and received != total:
            raise ValueError(f"download_file: {url} was truncated: got {received} of {total} bytes; "
                             "try again")
        got = digest.hexdigest()
        if got != sha256:
            raise ValueError(
                f"download_file: checksum mismatch for {url}: expected sha256 {sha256}, got {got} "
                f"({received} bytes); the download is damaged or the mirror changed"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def fetch_files(base_url: str, checksums: Mapping[str, str], root: str | Path | None = None, *,
                download: bool = True, progress: bool = True,
                timeout: float = 30.0) -> dict[str, Path]:
    """Make sure every file in ``checksums`` is in the cache, downloading what is missing (Section 7.6).

    Files already in the folder are verified too, so a damaged cache is reported, not used.

    Args:
        base_url: the mirror; each file is fetched from ``base_url + name``.
        checksums: file name -> expected hex SHA-256 digest.
        root: the cache folder (see :func:`cache_dir`).
        download: fetch missing files; when False a missing file raises FileNotFoundError.
        progress: show download progress.
        timeout: seconds to wait for the server.

    Returns:
        File name -> local path, for every entry of ``checksums``.

    Raises:
        FileNotFoundError: a file is missing and ``download`` is False.
        ConnectionError: a missing file could not be downloaded.
        ValueError: a cached or downloaded file fails its checksum.
    """
    folder = cache_dir(root)
    if not base_url.endswith("/"):
        base_url += "/"
    paths = {}
    for name, sha256 in checksums.items():
        path = folder / name
        if path.is_file():
            got = sha256_file(path)
            if got != sha256:
                raise ValueError(f"fetch_files: {path} fails its checksum (expected sha256 {sha256}, "
                                 f"got {got}); delete it to download it again")
        elif not download:
            raise FileNotFoundError(f"fetch_files: {path} is missing and download=False; "
                                    f"put the file in {folder} or allow downloading")
        else:
            download_file(base_url + name, path, sha256, progress=progress, timeout=timeout)
        paths[name] = path
    return paths


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
