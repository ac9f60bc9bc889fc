"""The IDX file format of the MNIST database, parsed with numpy.

An IDX file is a header followed by raw values in C order:

- magic number, 4 bytes: ``0x00 0x00``, a type code (``0x08`` = unsigned byte), the number
  of dimensions d;
- d big-endian uint32 sizes;
- prod(sizes) values.

MNIST uses d = 3 for images (n, 28, 28) and d = 1 for labels (n,).
"""

from __future__ import annotations

import numpy as np


class IDXFormatError(ValueError):
    """Raised when bytes are not a well-formed unsigned-byte IDX file."""


_UBYTE = 0x08


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an unsigned-byte IDX file.

    data: the decompressed file contents. name: used in error messages.

    Returns a read-only uint8 array of the shape stored in the header (a view on ``data``).
    Raises ``IDXFormatError`` on a bad magic number or a size that does not match the header.
    """
    if len(data) < 4:
        raise IDXFormatError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise IDXFormatError(
            f"{name}: bad magic number 0x{data[:4].hex()} (an IDX file starts with 0x0000); "
            "this is not an IDX file or it is still compressed"
        )
    if type_code != _UBYTE:
        raise IDXFormatError(
            f"{name}: IDX type code 0x{type_code:02x}, expected 0x08 (unsigned byte)"
        )
    if ndim < 1:
        raise IDXFormatError(f"{name}: IDX header declares {ndim} dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{name}: truncated header ({len(data)} of {header} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise IDXFormatError(
            f"{name}: header says shape {shape} ({expected} bytes in all) but the file has "
            f"{len(data)} bytes; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array of any shape (ndim >= 1) as IDX bytes (the inverse of parse_idx)."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim < 1:
        raise ValueError(
            f"encode_idx needs a uint8 array with ndim >= 1, got dtype {array.dtype}, "
            f"shape {array.shape}"
        )
    header = bytes([0, 0, _UBYTE, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()
