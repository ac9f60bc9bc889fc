"""The MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0).

``load_mnist`` looks for the four gzip IDX files, in this order:

1. the ``data_dir`` argument, when given (files in ``data_dir/mnist/`` or ``data_dir/``);
   otherwise the folder named by the environment variable ``NNLIB_DATA`` (same layout);
2. the user cache folder ``$XDG_CACHE_HOME/nnlib/mnist`` (default ``~/.cache/nnlib/mnist``);
3. the public mirrors in ``MIRRORS``: the file is downloaded with a progress bar, its
   checksum verified, and written atomically into the cache folder.

Each file may be stored gzip-compressed (``name.gz``) or decompressed (``name``). Its
decompressed bytes must match the published SHA-256, checked the first time a process
reads the file; the decoded arrays then stay in memory, so later calls are fast.
When nothing works, ``MNISTUnavailableError`` says where it looked and what to do.
Other data is never substituted.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from .idx import IDXFormatError, parse_idx

ENV_VAR = "NNLIB_DATA"

#: split -> (images file, labels file), names without the ``.gz`` suffix.
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: SHA-256 of each file's decompressed bytes (independent of the gzip wrapper).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: MD5 of the official ``.gz`` files as served by the mirrors.
MD5_GZ = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Base URLs tried in order; ``<base><name>.gz`` is the file.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)

_TIMEOUT = 30  # seconds per connection attempt
_CHUNK = 1 << 16


class MNISTError(RuntimeError):
    """Base class of the MNIST loader's errors."""


class MNISTUnavailableError(MNISTError):
    """No copy of an MNIST file was found and none could be downloaded."""


class MNISTCorruptError(MNISTError):
    """A file was found but its content is wrong (checksum, gzip or IDX format)."""


def cache_dir() -> Path:
    """The MNIST cache folder: ``$XDG_CACHE_HOME/nnlib/mnist`` or ``~/.cache/nnlib/mnist``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnlib" / "mnist"


def search_dirs(data_dir=None) -> list[Path]:
    """The folders ``load_mnist`` searches, in order (see the module docstring)."""
    root = data_dir if data_dir is not None else (os.environ.get(ENV_VAR) or None)
    dirs = []
    if root is not None:
        root = Path(root).expanduser()
        dirs += [root / "mnist", root]
    dirs.append(cache_dir())
    return dirs


def _locate(name: str, dirs: list[Path]) -> Path | None:
    for folder in dirs:
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decompress(raw: bytes, where: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise MNISTCorruptError(
            f"{where} is not a valid gzip file ({exc}). Delete it and load again, "
            "or replace it with a good copy."
        ) from exc


@functools.lru_cache(maxsize=8)
def _decode(path: str, size: int, mtime_ns: int, name: str) -> np.ndarray:
    """Read, verify and parse one file; memoised per (path, size, mtime) for this process."""
    raw = Path(path).read_bytes()
    data = _decompress(raw, path) if path.endswith(".gz") else raw
    digest = _sha256(data)
    if digest != SHA256[name]:
        raise MNISTCorruptError(
            f"{path}: checksum mismatch for {name}: the decompressed bytes have SHA-256 "
            f"{digest}, expected {SHA256[name]}. The file is damaged or is not MNIST. "
            "Delete it and load again (it will be downloaded into the cache), or replace it "
            "with a good copy."
        )
    try:
        array = parse_idx(data, name=path)
    except IDXFormatError as exc:
        raise MNISTCorruptError(str(exc)) from exc
    array.flags.writeable = False  # shared between calls: nobody may change it
    return array


def _read(path: Path, name: str) -> np.ndarray:
    st = path.stat()
    return _decode(str(path), st.st_size, st.st_mtime_ns, name)


def _fetch(url: str, name: str, dest: Path, progress: bool) -> None:
    """Download ``url`` into ``dest`` atomically after verifying its checksum."""
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        md5 = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
            ) as bar:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    md5.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise MNISTCorruptError(f"incomplete download: {received} of {total} bytes")
        if md5.hexdigest() != MD5_GZ[name]:
            # Some mirrors re-compress: fall back to the checksum of the content.
            data = _decompress(Path(tmp).read_bytes(), f"download from {url}")
            if _sha256(data) != SHA256[name]:
                raise MNISTCorruptError(
                    f"checksum mismatch: MD5 {md5.hexdigest()} (expected {MD5_GZ[name]}) and "
                    f"SHA-256 of the content {_sha256(data)} (expected {SHA256[name]})"
                )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # never leave a partial file behind
        raise


def _all_file_names() -> str:
    return ", ".join(f"{n}.gz" for pair in SPLITS.values() for n in pair)


def _unavailable(
    name: str, dirs: list[Path], failures: list[str], note: str
) -> MNISTUnavailableError:
    lines = [f"MNIST file {name}.gz is not available{note}.", "Searched these folders:"]
    lines += [f"  - {d}" for d in dirs]
    if failures:
        lines.append("Download attempts failed:")
        lines += [f"  - {f}" for f in failures]
    cache = cache_dir()
    lines += [
        "To fix this, do one of:",
        f"  * set the environment variable {ENV_VAR} to a folder that contains mnist/ "
        f"with the four files ({_all_file_names()}), e.g. export {ENV_VAR}=/path/to/data;",
        f"  * download the four files by hand from one of {', '.join(MIRRORS)} and put them "
        f"in {cache};",
        "  * pass data_dir=... to load_mnist.",
    ]
    return MNISTUnavailableError("\n".join(lines))


def _find_or_download(name: str, data_dir, download: bool, progress: bool) -> Path:
    dirs = search_dirs(data_dir)
    found = _locate(name, dirs)
    if found is not None:
        return found
    if not download:
        raise _unavailable(name, dirs, [], " (and download=False)")
    dest = cache_dir() / f"{name}.gz"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unavailable(name, dirs, [f"cannot create the cache folder: {exc}"], "") from exc
    failures = []
    for base in MIRRORS:
        url = f"{base}{name}.gz"
        try:
            _fetch(url, name, dest, progress)
            return dest
        # URLError and timeouts are OSErrors; a dropped connection can be an HTTPException.
        except (OSError, http.client.HTTPException, MNISTCorruptError, ValueError) as exc:
            failures.append(f"{url}: {exc}")
    raise _unavailable(name, dirs, failures, "")


def load_mnist_uint8(split="train", data_dir=None, download=True, progress=True):
    """The raw MNIST arrays: images (n, 28, 28) uint8 in [0, 255], labels (n,) uint8.

    Both are read-only and shared between calls (copy before changing them).
    Arguments as for ``load_mnist``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images_name, labels_name = SPLITS[split]
    images = _read(_find_or_download(images_name, data_dir, download, progress), images_name)
    labels = _read(_find_or_download(labels_name, data_dir, download, progress), labels_name)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MNISTCorruptError(f"{images_name}: expected images (n, 28, 28), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise MNISTCorruptError(
            f"{labels_name}: expected ({images.shape[0]},) labels to match the images, "
            f"got shape {labels.shape}"
        )
    return images, labels


def load_mnist(
    split="train", flat=True, dtype=np.float32, data_dir=None, download=True, progress=True
):
    """Load MNIST as arrays ready for training.

    split: "train" (60,000 images) or "test" (10,000 images).
    flat: True gives X (n, 784); False gives images X (n, 1, 28, 28).
    dtype: floating dtype of X. data_dir: folder to search first (else ``$NNLIB_DATA``).
    download: allow downloading into the user cache. progress: show a download progress bar.

    Returns X with pixel values in [0, 1] (pixel / 255) and y (n,) int64 digits 0..9.
    Both are fresh arrays the caller may change.
    Raises ``MNISTUnavailableError`` (where it looked, what to do) or ``MNISTCorruptError``.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating type such as np.float32, got {dtype}")
    images, labels = load_mnist_uint8(split, data_dir, download, progress)
    n = images.shape[0]
    X = np.divide(images, 255, dtype=dtype)
    X = X.reshape(n, 784) if flat else X.reshape(n, 1, 28, 28)
    return X, labels.astype(np.int64)
