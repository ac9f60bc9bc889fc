"""The sandbox's side of the channel: runs student cells and serves the grader's requests.

Started by `jail.py` inside bubblewrap as ``python -m _nncourse_sandbox.server RFD WFD``
(a copy of this file and of `wire.py` is all of the course it can see). It never receives
a test, an expected value or a score: only student cells to run and requests on its own
objects (call this function, read that attribute). Everything it sends back is data or a
handle; its printed output and warnings travel with each reply, capped in bytes.

The notebook's globals are a `Namespace`: a name the student's code uses but never bound
(``np``, ``plt``, a constant of the instructor's cells) is asked of the grader, which
answers only with names its instructor cells bound, as data, a module name, or a handle
that calls back.
"""

from __future__ import annotations

import builtins
import importlib
import io
import linecache
import os
import shutil
import signal
import sys
import traceback
import types
import warnings
from typing import get_args

from . import wire

OUT_PER_REPLY = 64 * 1024  # bytes of printed output carried by one reply
OUT_TOTAL = 1024 * 1024  # and in the whole run; the rest is counted, not kept
HERE = os.path.dirname(os.path.abspath(__file__))
BUILTIN_NAMES = frozenset(vars(builtins))


class Output(io.TextIOBase):
    """sys.stdout and sys.stderr of the sandbox: kept up to a budget, drained per reply."""

    def __init__(self):
        self.parts, self.size, self.total, self.dropped = [], 0, 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        data = s.encode("utf-8", "replace")
        room = min(OUT_PER_REPLY - self.size, OUT_TOTAL - self.total)
        if room > 0:
            kept = data[:room].decode("utf-8", "ignore")
            self.parts.append(kept)
            self.size += len(kept.encode())
            self.total += len(kept.encode())
        self.dropped += max(0, len(data) - max(room, 0))
        return len(s)

    def drain(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes not kept]\n"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class Unavailable(types.ModuleType):
    """Stands for a module the sandbox cannot import (it is hidden while grading)."""

    def __getattr__(self, attr):
        raise ImportError(f"{self.__name__} is not available while your notebook is graded")


class Callback:
    """A grader's callable handed to student code (a test's lambda, an activation)."""

    __slots__ = ("_server", "_id", "__name__", "__qualname__")

    def __init__(self, server, number, meta):
        self._server, self._id = server, number
        name = meta.get("name")
        self.__name__ = self.__qualname__ = name if isinstance(name, str) else "callback"

    def __call__(self, *args, **kwargs):
        return self._server.call_peer(self._id, args, kwargs)

    def __repr__(self):
        return f"<grader function {self.__name__}>"


class NoShell:
    """Stands for IPython in instructor cells: their magics do nothing outside Jupyter."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Namespace(dict):
    """The notebook's globals; instructor names are fetched from the grader on first use."""

    server: Server

    def __missing__(self, name):
        if name in BUILTIN_NAMES or name.startswith("__"):
            raise KeyError(name)
        value = self.server.fetch_setup(name)
        dict.__setitem__(self, name, value)
        self.server.mirrors.add(name)
        return value


class Server(wire.Endpoint):
    # Only a broken channel ends the server: what student code raises (SystemExit, the
    # KeyboardInterrupt of its time limit) is reported to the grader as its error.
    FATAL = (wire.ProtocolError,)
    SERVES = frozenset(get_args(wire.Op)) - {"setup"}  # "setup" is the grader's to serve

    def __init__(self, rfd, wfd, max_bytes):
        super().__init__(rfd, wfd, max_bytes)
        self.output = Output()
        self.caught: list[list[str]] = []
        self.mirrors: set[str] = set()
        self.rngs: dict[int, object] = {}  # the grader's generators, by key
        self.rng_seen: dict[int, str] = {}  # their states as last reported
        self.shell = None
        self.armed = False  # a time limit is running for the outermost request
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        self.ns = Namespace(vars(main))
        self.ns.server = self
        self.ns["__builtins__"] = builtins
        self.ns["__name__"] = "__main__"
        # An IPython shell (not a kernel) over the notebook's globals: display() returns
        # handles, magics of student cells work, as in the student's own kernel.
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell.instance(config=config, user_ns=self.ns)

    # what this side hands out and accepts
    def export(self, obj) -> dict:
        meta = {"type": _name(type(obj)), "callable": callable(obj)}
        name = (
            getattr(obj, "__name__", None) if isinstance(obj, (type, types.FunctionType)) else None
        )
        if isinstance(name, str):
            meta["name"] = name[:200]
        return self.handle_of(obj, meta)

    def proxy(self, number, meta):
        return Callback(self, number, meta)

    def rng(self, state, key):
        """The grader's generator `key`: one object here for as long as the run lasts, so
        a generator function that draws after it returned keeps drawing from it; its new
        state goes back with every reply (`add_extras`)."""
        if type(key) is not int:
            return wire.make_rng(state)
        known = self.rngs.get(key)
        if known is None:
            known = self.rngs[key] = wire.make_rng(state)
        else:
            known.bit_generator.state = wire.make_rng(state).bit_generator.state
        self.rng_seen[key] = repr(known.bit_generator.state)
        return known

    def is_proxy(self, obj) -> bool:
        return type(obj) is Callback and obj._server is self

    def module(self, name):
        if not isinstance(name, str):
            raise wire.ProtocolError("a module without a name")
        try:
            return importlib.import_module(name)
        except ImportError:
            return Unavailable(name)

    def imported(self, module, qualname):
        if not (isinstance(module, str) and isinstance(qualname, str)):
            raise wire.ProtocolError("a library function without a name")
        try:
            found = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            return Unavailable(f"{module}.{qualname}")
        return found

    def fetch_setup(self, name):
        msg, blobs = self.request("setup", {"name": name})
        if msg.get("missing"):
            raise KeyError(name)
        return self.result(msg, blobs)

    def raise_error(self, info):
        kind = info.get("type") if isinstance(info, dict) else None
        message = info.get("message") if isinstance(info, dict) else None
        cls = getattr(builtins, kind, None) if isinstance(kind, str) else None
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = RuntimeError
        try:
            raise cls(str(message))
        except TypeError:
            raise RuntimeError(str(message)) from None

    # replies carry what was printed and warned
    def add_extras(self, reply):
        moved = {}
        for key, rng in self.rngs.items():
            state = rng.bit_generator.state
            if repr(state) != self.rng_seen.get(key):
                self.rng_seen[key] = repr(state)
                moved[str(key)] = state
        if moved:
            reply["rngs"] = moved
        out = self.output.drain()
        if out:
            reply["out"] = out
        if self.caught:
            reply["warnings"] = self.caught[:20]
            self.caught = []

    def describe(self, exc):
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if not os.path.abspath(f.filename).startswith(HERE)
        ]
        try:
            lines = traceback.format_list(frames)
            text = str(exc)
        except Exception:  # noqa: BLE001 (a student exception whose str() fails)
            lines, text = [], "(the error could not be shown)"
        return {"type": _name(type(exc)), "message": text[:4000], "traceback": lines[-20:]}

    def handle(self, op, msg, blobs, reply, values):
        limit = msg.get("limit")
        arm = type(limit) in (int, float) and limit > 0 and not self.armed
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if arm:  # interrupt the student's code at the cell's limit, as Jupyter does
                    self.armed = True
                    signal.signal(signal.SIGALRM, _interrupt)
                    signal.setitimer(signal.ITIMER_REAL, float(limit))
                self._handle(op, msg, blobs, reply, values)
            finally:
                if arm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    self.armed = False
                for w in caught[:20]:
                    self.caught.append([_name(w.category), str(w.message)[:500]])

    def _handle(self, op, msg, blobs, reply, values):
        name = msg.get("name")
        if op == "exec":
            code, label = str(msg.get("code", "")), str(msg.get("label", "cell"))
            self.run_cell(code, label, setup=msg.get("setup") is True)
        elif op == "lookup":
            if isinstance(name, str) and dict.__contains__(self.ns, name):
                if name in self.mirrors:
                    reply["missing"] = True
                else:
                    values["value"] = dict.__getitem__(self.ns, name)
            else:
                reply["missing"] = True
        elif op == "forget":
            for n in msg.get("names") or []:
                if n in self.mirrors:
                    self.mirrors.discard(n)
                    dict.pop(self.ns, n, None)
        elif op == "getattr":
            values["value"] = getattr(self.target(msg), str(name))
        elif op == "setattr":
            setattr(self.target(msg), str(name), self.decode(msg.get("value"), blobs))
        elif op == "getitem":
            values["value"] = self.target(msg)[self.decode(msg.get("key"), blobs)]
        elif op == "setitem":
            key = self.decode(msg.get("key"), blobs)
            self.target(msg)[key] = self.decode(msg.get("value"), blobs)
        elif op == "len":
            values["value"] = len(self.target(msg))
        elif op == "iter":
            values["value"] = iter(self.target(msg))
        elif op == "next":
            try:
                values["value"] = next(self.target(msg))
            except StopIteration:
                reply["stop"] = True
        elif op == "repr":
            values["value"] = repr(self.target(msg))[:2000]
        elif op == "isinstance":
            obj = self.decode(msg.get("value"), blobs)
            values["value"] = isinstance(obj, self.target(msg))
        elif op in ("global_get", "global_has", "global_set"):
            space = getattr(self.target(msg), "__globals__", None)
            if not isinstance(space, dict):
                raise TypeError("this object has no globals")
            try:  # as the function sees it: instructor names included
                found = space[name]
            except KeyError:
                found = missing = wire
            else:
                missing = None
            if op == "global_get":
                if missing is wire:
                    reply["missing"] = True
                else:
                    values["value"] = found
            elif op == "global_has":
                values["value"] = missing is None
            else:
                dict.__setitem__(space, str(name), self.decode(msg.get("value"), blobs))
                self.mirrors.discard(name)
        elif op == "bye":
            self.add_extras(reply)
            self._send(reply, {})
            os._exit(0)
        else:
            super().handle(op, msg, blobs, reply, values)

    def target(self, msg):
        return self.resolve(msg.get("id"))

    def run_cell(self, code: str, label: str, setup: bool = False) -> None:
        filename = f"<{label}>"
        if "%" in code or "!" in code:
            from IPython.core.inputtransformer2 import TransformerManager

            code = TransformerManager().transform_cell(code)
            if setup:  # the instructor's magics (%matplotlib inline) mean nothing here
                code = code.replace("get_ipython().", "_nncourse_no_shell().")
                self.ns["_nncourse_no_shell"] = NoShell
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), self.ns)  # noqa: S102 (the sandbox's job)


def _interrupt(signum, frame):
    raise KeyboardInterrupt("the cell ran past its time limit")


def _name(cls) -> str:
    name = getattr(cls, "__name__", "object")
    return name[:100] if isinstance(name, str) else "object"


def _font_cache() -> None:
    """Start from the font list the grader built in the view (see jail.build_view)."""
    built = os.path.join(os.path.dirname(os.path.dirname(__file__)), "matplotlib")
    config = os.environ.get("MPLCONFIGDIR")
    if not (config and os.path.isdir(built)):
        return
    os.makedirs(config, exist_ok=True)
    for name in os.listdir(built):
        if name.startswith("fontlist") and name.endswith(".json"):
            shutil.copyfile(os.path.join(built, name), os.path.join(config, name))


def main(argv: list[str]) -> None:
    rfd, wfd, max_bytes = int(argv[0]), int(argv[1]), int(argv[2])
    _font_cache()
    server = Server(rfd, wfd, max_bytes)
    sys.stdout = sys.stderr = server.output
    os.environ.pop("NNCOURSE_SANDBOX_FDS", None)
    while True:
        try:
            msg, blobs = wire.read_message(rfd, max_bytes)
        except wire.ProtocolError:
            os._exit(3)
        if not isinstance(msg, dict):
            os._exit(3)
        server.serve(msg, blobs)


if __name__ == "__main__":
    main(sys.argv[1:])
