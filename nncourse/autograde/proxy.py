"""The grader's side of the channel: student objects as proxies, test callables as handles.

A test cell runs in the trusted process and sees the student's functions, classes and
objects as `Remote` proxies: calling one, reading or setting an attribute, indexing or
iterating it is a request to the sandbox, and what comes back is data (a fresh numpy
array, a number, a list) or another proxy. A proxy overrides no comparison, arithmetic or
conversion: an answer can be compared only as the data it returns, never by code of its
own. ``f.__globals__`` of a student function is a `RemoteGlobals` view, so a test can swap
a helper the function calls for a stand-in, or count the calls to it.

What the trusted side hands to student code is data, a module or numpy function by name,
or a callable as a handle (called back here). Nothing else can be reached from the
sandbox: it may only call what it was handed, and ask for a name that an instructor cell
bound (`setup_names`).
"""

from __future__ import annotations

import builtins
import sys
import time
import types
import warnings

from nncourse.autograde import wire

# Attributes a test may read on a proxy that are dunders (all others are plain names).
PLAIN_DUNDERS = frozenset(("__name__", "__qualname__", "__doc__", "__module__"))


class StudentError(Exception):
    """An exception raised by student code that has no builtin counterpart here."""


class TimeLimit(BaseException):
    """The sandbox interrupted the student's code at the cell's time limit (a
    BaseException: the test cannot swallow it; the cell fails with a TimeoutError)."""


class SandboxGone(Exception):
    """The sandbox is not running any more (it crashed, or was killed at a limit)."""


class Remote:
    """A student object that stays in the sandbox."""

    __nncourse_remote__ = True
    __slots__ = ("_ep", "_id", "_meta", "__weakref__")

    def __init__(self, endpoint, number, meta):
        object.__setattr__(self, "_ep", endpoint)
        object.__setattr__(self, "_id", number)
        object.__setattr__(self, "_meta", meta)

    def _ask(self, op, fields=None, values=None):
        ep = self._ep
        if not ep.alive:
            raise SandboxGone(
                "this object came from a run of your code that has ended (the grader "
                "restarted it after an earlier cell crashed or ran out of time)"
            )
        msg, blobs = ep.request(op, {"id": self._id, **(fields or {})}, values)
        return msg, blobs

    def __call__(self, *args, **kwargs):
        if not self._ep.alive:
            self._ask("call")
        return self._ep.call_peer(self._id, args, kwargs)

    def __getattr__(self, name):
        if name == "__globals__":
            return RemoteGlobals(self)
        if name.startswith("__") and name not in PLAIN_DUNDERS:
            raise AttributeError(name)
        if name in ("__name__", "__qualname__") and isinstance(self._meta.get("name"), str):
            return self._meta["name"]
        msg, blobs = self._ask("getattr", {"name": name})
        return self._ep.result(msg, blobs)

    def __setattr__(self, name, value):
        msg, blobs = self._ask("setattr", {"name": name}, {"value": value})
        self._ep.result(msg, blobs)

    def __getitem__(self, key):
        msg, blobs = self._ask("getitem", None, {"key": key})
        return self._ep.result(msg, blobs)

    def __setitem__(self, key, value):
        msg, blobs = self._ask("setitem", None, {"key": key, "value": value})
        self._ep.result(msg, blobs)

    def __len__(self):
        msg, blobs = self._ask("len")
        value = self._ep.result(msg, blobs)
        if type(value) is not int or value < 0:
            raise TypeError("len() of your object is not a non-negative integer")
        return value

    def __iter__(self):
        msg, blobs = self._ask("iter")
        return self._ep.result(msg, blobs)

    def __next__(self):
        msg, blobs = self._ask("next")
        if msg.get("stop"):
            raise StopIteration
        return self._ep.result(msg, blobs)

    def __instancecheck__(self, obj):
        msg, blobs = self._ask("isinstance", None, {"value": obj})
        return self._ep.result(msg, blobs) is True

    def __repr__(self):
        kind = self._meta.get("type", "object")
        name = self._meta.get("name")
        return f"<your {kind} {name}>" if name else f"<your {kind}>"


class RemoteGlobals:
    """``f.__globals__`` of a student function: read, replace or test a global it uses."""

    def __init__(self, fn: Remote):
        self._fn = fn

    def _ask(self, op, name, values=None):
        return self._fn._ask(op, {"name": str(name)}, values)

    def __getitem__(self, name):
        msg, blobs = self._ask("global_get", name)
        if msg.get("missing"):
            raise KeyError(name)
        return self._fn._ep.result(msg, blobs)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name):
        msg, blobs = self._ask("global_has", name)
        return self._fn._ep.result(msg, blobs) is True

    def __setitem__(self, name, value):
        # A stand-in a test installs stays valid after this request (unlike a callable
        # passed as an argument): the test puts the original back itself.
        ep = self._fn._ep
        ep.keep_exports = True
        try:
            msg, blobs = self._ask("global_set", name, {"value": value})
        finally:
            ep.keep_exports = False
        ep.result(msg, blobs)


COURSE_PACKAGES = ("nnlib", "nncourse", "__main__")


def importable_name(obj) -> tuple[str, str] | None:
    """(module, qualified name) under which the sandbox can import `obj` itself: a
    function or class of an installed library. Not nnlib's (the sandbox's copy may have it
    stubbed out) nor the notebook's own: those are called back instead."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)) or "<" in qualname:
        return None
    if module.split(".")[0] in COURSE_PACKAGES or not callable(obj):
        return None
    found = sys.modules.get(module)
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
    except AttributeError:
        return None
    return (module, qualname) if found is obj else None


def _exception_class(kind):
    cls = getattr(builtins, kind, None) if isinstance(kind, str) else None
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not StopIteration:
        return cls
    return None


class TrustedEndpoint(wire.Endpoint):
    """The trusted process's end: serves only callbacks and instructor names."""

    SERVES = frozenset(("call", "setup"))

    def __init__(self, rfd, wfd, max_bytes, setup_lookup, on_dead=None):
        super().__init__(rfd, wfd, max_bytes)
        self.alive = True
        self.setup_lookup = setup_lookup  # name -> value, KeyError if not an instructor name
        self.on_dead = on_dead  # called once the channel is unusable (kills the sandbox)
        self.limit_at: float | None = None  # when the current cell's time is up
        self.depth = 0  # requests of this side in progress (nested ones included)
        self.scoped: list[int] = []  # callables handed out during the outermost one
        self.data_only = False  # while answering "setup": no callables
        self.keep_exports = False  # while a test installs a stand-in global
        self._rngs: dict[int, object] = {}  # generators handed to the sandbox, by key
        self._rng_keys: dict[int, int] = {}

    def is_fatal(self, exc):
        # Anything that interrupts a test (its time limit included) ends the conversation.
        return not isinstance(exc, Exception) or isinstance(exc, (wire.ProtocolError, SandboxGone))

    def request(self, op, fields=None, values=None):
        if not self.alive:
            raise SandboxGone("the sandbox running your code has stopped")
        if self.limit_at is not None and op in ("exec", "call"):
            # The sandbox interrupts itself at the limit; `deadline` (a little later) is
            # when this side stops waiting and kills it.
            fields = {**(fields or {}), "limit": max(0.05, self.limit_at - time.monotonic())}
        self.depth += 1
        try:
            return super().request(op, fields, values)
        except BaseException as exc:
            if isinstance(exc, Exception) and not isinstance(exc, wire.ProtocolError):
                raise  # an error reply turned into an exception, or a callback's error
            self.alive = False
            if self.on_dead is not None:
                self.on_dead()
            raise
        finally:
            self.depth -= 1
            if self.depth == 0:
                self._drop_scoped()

    def _drop_scoped(self) -> None:
        """A callable handed to student code is valid only until the test's call that
        handed it over returns: kept and called later (a reference activation stashed
        away), it would be the reference working for the student."""
        for number in self.scoped:
            obj = self.exported.pop(number, None)
            if obj is not None and self._ids.get(id(obj)) == number:
                del self._ids[id(obj)]
        self.scoped = []

    def export(self, obj) -> dict:
        if isinstance(obj, types.ModuleType):
            return {"t": "mod", "name": obj.__name__}
        where = importable_name(obj)
        if where is not None:  # the sandbox imports its own copy (tqdm.trange, np.tanh)
            return {"t": "imp", "module": where[0], "name": where[1]}
        if callable(obj) and not self.data_only:
            name = getattr(obj, "__name__", None)
            meta = {"name": name[:200]} if isinstance(name, str) else {}
            handle = self.handle_of(obj, meta)
            if not self.keep_exports:
                self.scoped.append(handle["id"])
            return handle
        raise TypeError(
            f"a {type(obj).__name__} cannot be handed to student code (only data, modules "
            "and functions can)"
        )

    def proxy(self, number, meta):
        return Remote(self, number, meta)

    def rng_key(self, rng) -> int:
        key = self._rng_keys.get(id(rng))
        if key is None or self._rngs.get(key) is not rng:
            key = len(self._rngs) + 1
            self._rngs[key] = rng
            self._rng_keys[id(rng)] = key
        return key

    def is_proxy(self, obj) -> bool:
        if type(obj) is Remote:
            if obj._ep is not self:
                raise TypeError("an object from an earlier, ended run of the student's code")
            return True
        return False

    def handle(self, op, msg, blobs, reply, values):
        if op == "setup":
            try:
                value = self.setup_lookup(msg.get("name"))
                self.data_only = True  # an instructor name is data or a module, never a
                try:  # callable of this process (it could be the reference itself)
                    self.codec.encode(value, [])
                finally:
                    self.data_only = False
                values["value"] = value
            except (KeyError, TypeError, ValueError):
                reply["missing"] = True
        elif op == "call":
            # Only what this side handed out can be called: resolve() refuses the rest.
            super().handle(op, msg, blobs, reply, values)

    def on_reply(self, msg, blobs):
        for key, state in (msg.get("rngs") or {}).items():
            rng = self._rngs.get(int(key)) if str(key).isdigit() else None
            if rng is not None:  # draws made in the sandbox continue here
                rng.bit_generator.state = wire.make_rng(state).bit_generator.state
        out = msg.get("out")
        if isinstance(out, str) and out:
            sys.stdout.write(out)
        for item in msg.get("warnings") or []:
            if isinstance(item, list) and len(item) == 2:
                category = getattr(builtins, str(item[0]), None)
                if not (isinstance(category, type) and issubclass(category, Warning)):
                    category = UserWarning
                warnings.warn(str(item[1]), category, stacklevel=3)

    def raise_error(self, info):
        if not isinstance(info, dict):
            raise StudentError("your code failed")
        kind, message = str(info.get("type", "Error")), str(info.get("message", ""))
        if kind == "KeyboardInterrupt":
            raise TimeLimit(message)
        cls = _exception_class(kind)
        err = None
        if cls is not None:
            try:
                err = cls(message)
            except Exception:  # noqa: BLE001 (a class that needs other arguments)
                err = None
        if err is None:
            err = StudentError(f"{kind}: {message}")
        err.student_traceback = [str(line) for line in info.get("traceback") or []]
        raise err
