"""The data-only channel between the trusted grader and the sandbox that runs student code.

Both ends import this module (the sandbox gets a copy of it, with nothing else of the
course), so it needs only the standard library and numpy.

A message is one frame: a 4-byte length, a JSON header, then the binary blobs the header
lists (numpy arrays as ``.npy`` bytes, read with ``allow_pickle=False``). Nothing is ever
unpickled. A value on the wire is one of

- ``None``, ``bool``, ``int``, ``str`` and finite ``float`` as plain JSON;
- a tagged JSON object ``{"t": ...}``: a non-finite float, a tuple, list or dict of values,
  a numpy array or scalar (``nd``/``ns``, a blob), a ``numpy.random.Generator`` (``rng``,
  its bit generator's state, so draws made on one side continue on the other), a slice,
  bytes, a module by name (``mod``), a library's function or class by name (``imp``);
- a handle ``{"t": "h", "id": n}``: an object that stays with its sender (a student's
  function, class, instance or generator; a test's callable); the receiver holds a proxy
  whose use becomes a request to the owner;
- ``{"t": "r", "id": n}``: a handle the receiver exported earlier, coming back (so a
  function handed out and handed back is the very same object).

Each side serves the other's requests while it waits for its own reply, so calls nest
(a test calls a student's function, which calls back a test's lambda, which calls another
student function). Limits are enforced on reading: header size, blob size, total bytes
per message, nesting depth.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import struct
import time
from typing import Any, Literal, TypedDict

import numpy as np

HEADER = struct.Struct("!I")
MAX_HEADER = 8 * 2**20  # bytes of JSON in one message
MAX_DEPTH = 40  # nesting of lists, tuples and dicts in one value
MAX_ITEMS = 200_000  # values in one message
RNG_KINDS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
# Operations a peer may request: the sandbox serves all but "setup" (its SERVES is derived
# from this list); the trusted side serves only "call" on the callables it handed out, and
# "setup".
Op = Literal[
    "exec",  # run a student cell (sandbox)
    "lookup",  # a student global by name (sandbox)
    "setup",  # a name bound by an instructor cell (trusted)
    "forget",  # drop mirrored instructor names (sandbox)
    "call",
    "getattr",
    "setattr",
    "getitem",
    "setitem",
    "len",
    "iter",
    "next",
    "repr",
    "isinstance",
    "global_get",
    "global_set",
    "global_has",
    "bye",
]


class Request(TypedDict, total=False):
    op: Op
    seq: int
    id: int  # the handle the operation applies to
    name: str  # attribute, global or instructor name
    names: list[str]  # for "forget"
    code: str  # for "exec"
    label: str  # for "exec": how tracebacks name the cell
    args: list  # encoded values
    kwargs: dict
    value: Any  # encoded value (setattr, setitem, global_set)
    key: Any  # encoded value (getitem, setitem)


class ErrorInfo(TypedDict):
    type: str  # the exception's class name
    message: str
    traceback: list[str]  # lines of the student's frames only


class Reply(TypedDict, total=False):
    op: Literal["reply"]
    seq: int
    value: Any  # encoded value
    error: ErrorInfo
    stop: bool  # "next" reached the end of the iterator
    missing: bool  # "lookup"/"setup": no such name
    mutated: dict  # arguments the call changed in place: position or name -> new value
    same_as: str  # the call returned one of its arguments itself: its position or name
    out: str  # what the student's code printed since the last reply
    warnings: list[list[str]]  # [category name, message] raised during the request


class ProtocolError(Exception):
    """The peer sent something that is not a valid message (or closed the channel)."""


class PeerGone(ProtocolError):
    """The channel closed: the other process died or was killed."""


class Timeout(BaseException):
    """No reply before the deadline (a BaseException: test code cannot swallow it)."""


# --- framing -------------------------------------------------------------------------


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise Timeout()
        chunk = os.read(fd, min(n - got, 4 * 2**20))
        if not chunk:
            raise PeerGone("the channel closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_message(fd: int, header: dict, blobs: list[bytes]) -> None:
    header = {**header, "blobs": [len(b) for b in blobs]}
    data = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    parts = [HEADER.pack(len(data)), data, *blobs]
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                written = os.write(fd, view)
                view = view[written:]
    except OSError as err:  # the reader is gone (EPIPE) or the fd was closed
        raise PeerGone(f"the channel closed ({err.strerror})") from None


def read_message(fd: int, max_bytes: int, deadline: float | None = None) -> tuple[dict, list]:
    """(header, blobs) of the next message; at most `max_bytes` in all, or ProtocolError."""
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    if size > min(MAX_HEADER, max_bytes):
        raise ProtocolError(f"a message header of {size} bytes is over the limit")
    try:
        header = json.loads(_read_exact(fd, size, deadline))
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"a message that is not JSON ({err.__class__.__name__})") from None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise ProtocolError("a message without a valid list of blob sizes")
    if size + sum(sizes) > max_bytes:
        raise ProtocolError(
            f"a message of {size + sum(sizes)} bytes is over the limit of {max_bytes}"
        )
    blobs = [_read_exact(fd, s, deadline) for s in sizes]
    return header, blobs


# --- values --------------------------------------------------------------------------


NPY_MAGIC = b"\x93NUMPY\x01\x00"
NPY_HEADER = re.compile(
    r"\{'descr': '([<>|=][biufcSUMm]\d*(?:\[\w+\])?)', 'fortran_order': False, "
    r"'shape': \(((?:\d+, ?)*\d*)\), \} *\n"
)


def _npy(array: np.ndarray) -> bytes:
    """The array in the .npy format (version 1.0, C order), written here: numpy's own
    writer and reader are general and slow, and this channel carries small arrays often."""
    if not array.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
        array = array.copy(order="C")
    shape = "".join(f"{n}, " for n in array.shape)
    if len(array.shape) > 1:
        shape = shape[:-2]
    elif len(array.shape) == 1:
        shape = shape[:-1]
    descr = np.lib.format.dtype_to_descr(array.dtype)
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': ({shape}), }}"
    pad = 64 - (len(NPY_MAGIC) + 2 + len(header) + 1) % 64
    header = (header + " " * (pad % 64) + "\n").encode("latin1")
    return NPY_MAGIC + struct.pack("<H", len(header)) + header + array.tobytes()


def _from_npy(data: bytes) -> np.ndarray:
    """An array from .npy bytes of the form `_npy` writes; anything else is refused."""
    if data[:8] != NPY_MAGIC or len(data) < 10:
        raise ProtocolError("an array that cannot be read: not .npy version 1.0 bytes")
    (size,) = struct.unpack("<H", data[8:10])
    match = NPY_HEADER.fullmatch(data[10 : 10 + size].decode("latin1"))
    if match is None:
        raise ProtocolError("an array that cannot be read: an unexpected .npy header")
    try:
        dtype = np.dtype(match.group(1))
    except TypeError:
        raise ProtocolError("an array that cannot be read: an unknown dtype") from None
    shape = tuple(int(n) for n in match.group(2).replace(" ", "").split(",") if n)
    count = math.prod(shape)
    body = memoryview(data)[10 + size :]
    if count * dtype.itemsize != len(body):
        raise ProtocolError("an array that cannot be read: its size does not match its shape")
    return np.frombuffer(body, dtype=dtype, count=count).reshape(shape).copy()


def rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def make_rng(state) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in RNG_KINDS:
        raise ProtocolError(f"unknown bit generator {name!r}")
    bit = getattr(np.random, name)(0)  # a fixed seed: cheaper than OS entropy, then set
    try:
        bit.state = state
    except Exception as err:  # noqa: BLE001
        raise ProtocolError(f"an invalid generator state: {err}") from None
    return np.random.Generator(bit)


class Codec:
    """Encodes local values for one message, decodes a peer's values.

    `export(obj)` gives the handle id under which a non-data object stays here (or raises
    TypeError when this side refuses to hand such an object out); `resolve(id)` is the
    object this side exported; `proxy(id, meta)` builds the local stand-in for a peer's
    object; `is_proxy(obj)` says whether obj is such a stand-in (then its id is
    ``obj._id``).
    """

    def __init__(self, endpoint):
        self.endpoint = endpoint

    # encoding
    def encode(self, value, blobs: list, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError("a value nested too deeply to send")
        t = type(value)
        if value is None or t is bool or t is int or t is str:
            return value
        if t is float:
            return value if math.isfinite(value) else {"t": "f", "v": repr(value)}
        if t in (list, tuple):
            items = [self.encode(v, blobs, depth + 1) for v in value]
            return {"t": "list" if t is list else "tuple", "v": items}
        if t is dict:
            pairs = [
                [self.encode(k, blobs, depth + 1), self.encode(v, blobs, depth + 1)]
                for k, v in value.items()
            ]
            return {"t": "dict", "v": pairs}
        if t is np.ndarray and value.dtype.kind in "biufcSUMm":
            blobs.append(_npy(value))
            return {"t": "nd", "b": len(blobs) - 1}
        if isinstance(value, np.generic) and value.dtype.kind in "biufcSUMm":
            blobs.append(_npy(np.asarray(value)))
            return {"t": "ns", "b": len(blobs) - 1}
        if t is np.random.Generator:
            return {"t": "rng", "s": rng_state(value), "k": self.endpoint.rng_key(value)}
        if t is slice:
            parts = [value.start, value.stop, value.step]
            return {"t": "slice", "v": [self.encode(p, blobs, depth + 1) for p in parts]}
        if value is Ellipsis:
            return {"t": "..."}
        if t is bytes:
            blobs.append(value)
            return {"t": "bytes", "b": len(blobs) - 1}
        if t is complex:
            return {"t": "c", "v": [repr(value.real), repr(value.imag)]}
        if self.endpoint.is_proxy(value):
            return {"t": "r", "id": value._id}
        return self.endpoint.export(value)

    # decoding
    def decode(self, value, blobs: list, depth: int = 0, count: list | None = None):
        count = count if count is not None else [0]
        count[0] += 1
        if count[0] > MAX_ITEMS or depth > MAX_DEPTH:
            raise ProtocolError("a value too large or nested too deeply")
        t = type(value)
        if value is None or t in (bool, int, str):
            return value
        if t is float:
            return value
        if t is not dict:
            raise ProtocolError(f"an untagged {t.__name__} on the wire")
        tag = value.get("t")
        if tag in ("list", "tuple"):
            items = value.get("v")
            if not isinstance(items, list):
                raise ProtocolError("a malformed sequence")
            out = [self.decode(v, blobs, depth + 1, count) for v in items]
            return out if tag == "list" else tuple(out)
        if tag == "dict":
            pairs = value.get("v")
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in pairs
            ):
                raise ProtocolError("a malformed dict")
            out = {}
            for k, v in pairs:
                key = self.decode(k, blobs, depth + 1, count)
                try:
                    out[key] = self.decode(v, blobs, depth + 1, count)
                except TypeError:
                    raise ProtocolError("a dict key that cannot be hashed") from None
            return out
        if tag in ("nd", "ns", "bytes"):
            index = value.get("b")
            if type(index) is not int or not 0 <= index < len(blobs):
                raise ProtocolError("a reference to a missing blob")
            if tag == "bytes":
                return bytes(blobs[index])
            array = _from_npy(blobs[index])
            if array.dtype.kind not in "biufcSUMm":
                raise ProtocolError(f"an array of dtype {array.dtype} on the wire")
            return array if tag == "nd" else array[()]
        if tag == "f":
            text = value.get("v")
            if text not in ("nan", "inf", "-inf"):
                raise ProtocolError("a malformed float")
            return float(text)
        if tag == "c":
            re_im = value.get("v")
            try:
                return complex(float(re_im[0]), float(re_im[1]))
            except (TypeError, ValueError, IndexError):
                raise ProtocolError("a malformed complex number") from None
        if tag == "rng":
            return self.endpoint.rng(value.get("s"), value.get("k"))
        if tag == "slice":
            parts = value.get("v")
            if not isinstance(parts, list) or len(parts) != 3:
                raise ProtocolError("a malformed slice")
            return slice(*(self.decode(p, blobs, depth + 1, count) for p in parts))
        if tag == "...":
            return Ellipsis
        if tag in ("h", "r"):
            ident = value.get("id")
            if type(ident) is not int:
                raise ProtocolError("a handle without an id")
            if tag == "r":
                return self.endpoint.resolve(ident)
            return self.endpoint.proxy(ident, value)
        if tag == "mod":
            return self.endpoint.module(value.get("name"))
        if tag == "imp":
            return self.endpoint.imported(value.get("module"), value.get("name"))
        raise ProtocolError(f"an unknown tag {tag!r}")


# --- in-place changes ----------------------------------------------------------------

MUTABLE = (np.ndarray, list, dict, np.random.Generator)


def fingerprint(value, depth: int = 0):
    """A cheap summary that changes when `value` (an array, list, dict or generator, and
    what they hold) is changed in place."""
    if depth > MAX_DEPTH:
        return None
    if type(value) is np.ndarray:
        if value.dtype.kind not in "biufcSUMm":
            return ("nd?", id(value))
        data = np.ascontiguousarray(value).view(np.uint8).reshape(-1)
        return ("nd", value.shape, value.dtype.str, hash(data.tobytes()))
    if type(value) in (list, tuple):
        return (type(value).__name__, tuple(fingerprint(v, depth + 1) for v in value))
    if type(value) is dict:
        try:
            return ("dict", tuple((k, fingerprint(v, depth + 1)) for k, v in value.items()))
        except TypeError:
            return ("dict?", id(value))
    if type(value) is np.random.Generator:
        return ("rng", repr(rng_state(value)))
    return ("id", id(value))


def apply_back(original, new, depth: int = 0):
    """Change `original` in place so that it holds what `new` (its changed copy from the
    other side) holds: arrays element-wise (same shape and dtype), lists and dicts item by
    item (keeping the arrays inside them), generators by their state."""
    if depth > MAX_DEPTH:
        return
    if type(original) is np.ndarray and type(new) is np.ndarray:
        if original.shape == new.shape and original.flags.writeable:
            original[...] = new
        return
    if type(original) is np.random.Generator and type(new) is np.random.Generator:
        original.bit_generator.state = new.bit_generator.state
        return
    if type(original) is list and type(new) is list:
        if len(original) == len(new):
            for i, (old, item) in enumerate(zip(original, new, strict=True)):
                if _same_kind(old, item):
                    apply_back(old, item, depth + 1)
                else:
                    original[i] = item
        else:
            original[:] = new
        return
    if type(original) is tuple and type(new) is tuple and len(original) == len(new):
        for old, item in zip(original, new, strict=True):
            if _same_kind(old, item):
                apply_back(old, item, depth + 1)
        return
    if type(original) is dict and type(new) is dict:
        for key in [k for k in original if k not in new]:
            del original[key]
        for key, item in new.items():
            old = original.get(key)
            if key in original and _same_kind(old, item):
                apply_back(old, item, depth + 1)
            else:
                original[key] = item


def _same_kind(old, new) -> bool:
    if type(old) is not type(new):
        return False
    if type(old) is np.ndarray:
        return old.shape == new.shape and old.dtype == new.dtype
    return type(old) in (list, dict, tuple, np.random.Generator)


# --- the endpoint --------------------------------------------------------------------


def error_info(exc: BaseException, traceback_lines: list[str] | None = None) -> ErrorInfo:
    return {
        "type": type(exc).__name__[:100],
        "message": str(exc)[:4000],
        "traceback": [line[:2000] for line in (traceback_lines or [])[-20:]],
    }


class Endpoint:
    """One end of the channel: sends requests and serves the peer's while it waits.

    Subclasses say which operations they serve (`SERVES`), how a non-data object is
    handed out (`export`) and how a peer's handle looks here (`proxy`), and may handle
    the extras of a reply (`on_reply`).
    """

    SERVES: frozenset = frozenset()
    # Exceptions that end the conversation: never turned into an error reply.
    FATAL: tuple = (ProtocolError, Timeout, KeyboardInterrupt)

    def __init__(self, rfd: int, wfd: int, max_bytes: int):
        self.rfd, self.wfd, self.max_bytes = rfd, wfd, max_bytes
        self.codec = Codec(self)
        self.seq = 0
        self.exported: dict[int, object] = {}
        self._ids: dict[int, int] = {}  # id(obj) -> handle number
        self.deadline: float | None = None  # for replies to this side's requests

    # handles
    def handle_of(self, obj, meta: dict) -> dict:
        key = id(obj)
        number = self._ids.get(key)
        if number is None or self.exported.get(number) is not obj:
            number = len(self.exported) + 1
            self.exported[number] = obj
            self._ids[key] = number
        return {"t": "h", "id": number, **meta}

    def resolve(self, number: int):
        if number not in self.exported:
            raise LookupError(
                "this object was handed to your code for one call only and cannot be used "
                "after that call returned"
            )
        return self.exported[number]

    def export(self, obj) -> dict:
        raise TypeError(f"a {type(obj).__name__} cannot be sent")

    def rng_key(self, rng) -> int | None:
        """The key under which the peer keeps its copy of `rng` in step (None: a copy)."""
        return None

    def rng(self, state, key):
        """The local generator for a peer's generator `state` (a new copy by default)."""
        return make_rng(state)

    def proxy(self, number: int, meta: dict):
        raise ProtocolError("this side accepts no handles")

    def is_proxy(self, obj) -> bool:
        return False

    def module(self, name):
        raise ProtocolError("this side accepts no modules")

    def imported(self, module, qualname):
        raise ProtocolError("this side accepts no library functions by name")

    # sending
    def _send(self, header: dict, values: dict) -> None:
        blobs: list[bytes] = []
        for key, value in values.items():
            if key == "args":
                header[key] = [self.codec.encode(v, blobs) for v in value]
            elif key == "kwargs":
                header[key] = {str(k): self.codec.encode(v, blobs) for k, v in value.items()}
            elif key == "mutated":
                header[key] = {str(k): self.codec.encode(v, blobs) for k, v in value.items()}
            else:
                header[key] = self.codec.encode(value, blobs)
        write_message(self.wfd, header, blobs)

    def request(self, op: str, fields: dict | None = None, values: dict | None = None):
        """Send a request and serve the peer until its reply; returns (reply, blobs)."""
        self.seq += 1
        seq = self.seq
        self._send({"op": op, "seq": seq, **(fields or {})}, values or {})
        while True:
            msg, blobs = read_message(self.rfd, self.max_bytes, self.deadline)
            if not isinstance(msg, dict):
                raise ProtocolError("a message that is not an object")
            if msg.get("op") == "reply":
                if msg.get("seq") != seq:
                    raise ProtocolError("a reply to a request that is not waiting")
                self.on_reply(msg, blobs)
                return msg, blobs
            self.serve(msg, blobs)

    def on_reply(self, msg: dict, blobs: list) -> None:
        """Extras of a reply (printed output, warnings); nothing by default."""

    def decode(self, value, blobs):
        return self.codec.decode(value, blobs)

    # serving
    def serve(self, msg: dict, blobs: list) -> None:
        op, seq = msg.get("op"), msg.get("seq")
        if type(seq) is not int:
            raise ProtocolError("a request without a sequence number")
        reply: dict = {"op": "reply", "seq": seq}
        values: dict = {}
        try:
            if op not in self.SERVES:
                raise PermissionError(f"the operation {op!r} is not allowed")
            self.handle(op, msg, blobs, reply, values)
        except BaseException as exc:  # noqa: BLE001 (reported to the peer, not raised here)
            if self.is_fatal(exc):
                raise
            reply["error"] = self.describe(exc)
            values = {}
        self.add_extras(reply)
        try:
            self._send(reply, values)
        except (TypeError, ValueError) as exc:  # the result cannot be sent
            reply = {"op": "reply", "seq": seq, "error": error_info(exc)}
            self.add_extras(reply)
            self._send(reply, {})

    def is_fatal(self, exc: BaseException) -> bool:
        return isinstance(exc, self.FATAL)

    def describe(self, exc: BaseException) -> ErrorInfo:
        return error_info(exc)

    def add_extras(self, reply: dict) -> None:
        """Add this side's extras to a reply (the sandbox adds output and warnings)."""

    def handle(self, op, msg, blobs, reply, values) -> None:
        if op == "call":
            target = self.resolve(msg.get("id"))
            args = [self.decode(a, blobs) for a in _list(msg.get("args"))]
            kwargs = {str(k): self.decode(v, blobs) for k, v in _dict(msg.get("kwargs")).items()}
            before = {i: fingerprint(a) for i, a in enumerate(args) if type(a) in MUTABLE}
            before.update({k: fingerprint(v) for k, v in kwargs.items() if type(v) in MUTABLE})
            result = self.invoke(target, args, kwargs)
            mutated = {}
            for key, print_before in before.items():
                value = args[key] if isinstance(key, int) else kwargs[key]
                if fingerprint(value) != print_before:
                    mutated[key] = value
                if value is result:  # `return x`: the caller gets its own x back, not a copy
                    reply["same_as"] = str(key)
            values["value"] = result
            if mutated:
                values["mutated"] = mutated
        else:
            raise PermissionError(f"the operation {op!r} is not allowed")

    def invoke(self, target, args, kwargs):
        return target(*args, **kwargs)

    def call_peer(self, number: int, args, kwargs):
        """Call the peer's object `number`; arrays, lists, dicts and generators that the
        call changed in place are changed here too. Returns the decoded result."""
        msg, blobs = self.request(
            "call", {"id": number}, {"args": list(args), "kwargs": dict(kwargs)}
        )
        result = self.result(msg, blobs)
        for key, value in _dict(msg.get("mutated")).items():
            original = _argument(args, kwargs, key)
            if original is not None:
                apply_back(original, self.decode(value, blobs))
        same = _argument(args, kwargs, msg.get("same_as"))
        # Identity is kept across the boundary only for what could have changed in place:
        # a test can then tell `return x` from `return x.copy()`.
        return same if type(same) in MUTABLE else result

    def result(self, msg: dict, blobs: list):
        if "error" in msg:
            self.raise_error(msg["error"])
        return self.decode(msg.get("value"), blobs)

    def raise_error(self, info) -> None:
        raise RuntimeError(str(info))


def _argument(args, kwargs: dict, key):
    """The argument a reply names by position ("0") or name, or None."""
    if not isinstance(key, str):
        return None
    if key.isdigit():
        return args[int(key)] if int(key) < len(args) else None
    return kwargs.get(key)


def _list(value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError("arguments that are not a list")
    return value


def _dict(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError("keyword arguments that are not an object")
    return value
