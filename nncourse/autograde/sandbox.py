"""The trusted run: the program of one submission, executed cell by cell, outside Jupyter.

Started by `isolate.py` as ``python -I sandbox.py`` (isolated mode: no current folder on
``sys.path``, no ``PYTHON*`` variables), as an unprivileged user when the grader is root,
with resource limits. It imports nothing from the course, only the standard library (the
program imports numpy and nnlib itself).

stdin: JSON ``{"cells": [{"kind": "setup"|"student"|"test", "grade_id", "code"}],
"cell_timeout": seconds, "output_cap": bytes, "fd", "skip": [cell index]}``. Results go to
the pipe ``fd``: ``{"start": index}`` before each cell and one JSON
line per test cell: ``{"grade_id", "outputs": [nbformat outputs]}``, then ``{"done": true}``.

No IPython: input transformers, magics and kernel hooks do not exist here. Student cells
arrive reduced to definitions (see `trusted.py`); every student function is wrapped by
`guard`, which refuses calls that rebind names the tests use (module attributes, builtins,
``sys.modules``, the notebook's globals) or return objects built to fool comparisons.
Stderr of a test cell is shown as ordinary output: warnings cost nothing, errors do.
"""

import builtins
import importlib
import io
import json
import linecache
import os
import signal
import sys
import traceback
import types

TRICK_METHODS = (
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__bool__",
    "__float__",
    "__array__",
    "__array_ufunc__",
    "__array_function__",
    "__array_interface__",
    "__getattr__",
    "__abs__",
    "__sub__",
    "__rsub__",
)


class CellTimeout(BaseException):
    """Raised in the cell that ran longer than the per-cell limit."""


class IntegrityError(Exception):
    """A student function tried to change what the tests rely on."""


class CappedStream(io.TextIOBase):
    """A text stream that keeps at most `cap` bytes and counts the rest."""

    def __init__(self, cap):
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.cap - self.kept
        if room > 0:
            piece = s.encode("utf-8", "replace")[:room].decode("utf-8", "ignore")
            self.parts.append(piece)
            self.kept += len(piece.encode("utf-8"))
        self.dropped += max(0, len(s.encode("utf-8", "replace")) - max(room, 0))
        return len(s)

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[output truncated: {self.dropped} more bytes not kept]\n"
        return out


def _snapshot(spaces):
    return [dict(space) for space in spaces]


def _changed(spaces, before):
    """The first watched namespace in which a name was rebound or removed (additions are
    fine: imports fill sys.modules, numpy adds lazy attributes), or None."""
    for space, old in zip(spaces, before, strict=True):
        try:
            same = old.items() <= space.items()  # identity first, at C speed
        except Exception:  # noqa: BLE001 (an array compared elementwise: it changed)
            same = False
        if not same:
            return space, old
    return None


def _is_trick(value, student_types):
    cls = type(value)
    if cls in student_types and any(m in vars(cls) for m in TRICK_METHODS):
        return True
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray) and cls is not np.ndarray:
        return cls.__module__ == "__main__" or cls in student_types
    if isinstance(value, (tuple, list)) and len(value) < 16:
        return any(_is_trick(v, student_types) for v in value)
    return False


class Guard:
    """Wraps student functions: no rebinding of watched namespaces during a call, no
    comparison tricks in return values."""

    def __init__(self, ns):
        self.ns, self.depth, self.student_types = ns, 0, set()

    def spaces(self):
        spaces = [self.ns, vars(builtins), sys.modules]
        for name in ("numpy", "numpy.testing", "numpy.linalg", "math"):
            if name in sys.modules:
                spaces.append(vars(sys.modules[name]))
        return spaces

    def wrap(self, fn):
        """A stand-in for `fn` that checks each outermost call. Its globals are the
        notebook's (tests read ``f.__globals__`` to spy on helpers) and it reaches the
        checks only through its closure, so nothing in the notebook can replace them."""
        guard, snapshot, changed, is_trick = self, _snapshot, _changed, _is_trick
        error, builtin_names = IntegrityError, vars(builtins)

        def guarded(*args, **kwargs):
            if guard.depth:
                return fn(*args, **kwargs)
            spaces = guard.spaces()
            before = snapshot(spaces)
            guard.depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                guard.depth -= 1
                hit = changed(spaces, before)
                shadows = [k for k in guard.ns if k not in before[0] and k in builtin_names]
                if hit is not None:
                    hit[0].update(hit[1])
                for name in shadows:
                    del guard.ns[name]
                hit = hit or (shadows or None)
            if hit is not None:
                raise error(
                    f"{fn.__name__} changed names that the tests use (a module attribute, a "
                    "builtin or a global); the grader does not allow that"
                )
            if is_trick(result, guard.student_types):
                raise error(
                    f"{fn.__name__} returned an object that overrides comparisons or array "
                    "conversion; return a plain numpy array or number"
                )
            return result

        wrapper = types.FunctionType(
            guarded.__code__, fn.__globals__, fn.__name__, None, guarded.__closure__
        )
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        wrapper.__module__ = fn.__module__
        wrapper.__wrapped__ = fn
        return wrapper

    def wrap_new(self, names_before):
        """Wrap the functions and classes a student cell just defined."""
        for name, value in list(self.ns.items()):
            if name in names_before and names_before[name] is value:
                continue
            if isinstance(value, types.FunctionType) and value.__module__ == "__main__":
                self.ns[name] = self.wrap(value)
            elif isinstance(value, type) and value.__module__ == "__main__":
                self.student_types.add(value)
                for attr, member in list(vars(value).items()):
                    if isinstance(member, types.FunctionType) and not attr.startswith("__"):
                        setattr(value, attr, self.wrap(member))


def _on_alarm(signum, frame):
    signal.alarm(1)  # keep interrupting a cell that swallows the first one
    raise CellTimeout()


def run_cell(cell, ns, cap, timeout):
    """Execute one cell; its outputs as nbformat dicts (an error output if it raised)."""
    out = CappedStream(cap)
    filename = f"<cell {cell.get('grade_id') or cell['index']}>"
    if cell["kind"] == "student":  # student lines may appear in tracebacks, tests may not
        linecache.cache[filename] = (
            len(cell["code"]),
            None,
            cell["code"].splitlines(True),
            filename,
        )
    outputs = []
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    signal.alarm(max(1, int(round(timeout))))
    try:
        exec(compile(cell["code"], filename, "exec"), ns)
        error = None
    except CellTimeout:
        signal.alarm(0)  # before anything else: the handler re-arms itself
        error = ("TimeoutError", f"the cell ran longer than {timeout:g} s and was stopped", [])
    except BaseException as exc:  # noqa: BLE001 (SystemExit, KeyboardInterrupt included)
        signal.alarm(0)
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        error = (type(exc).__name__, str(exc)[:2000], [line[:2000] for line in tb[-12:]])
    finally:
        signal.alarm(0)
        sys.stdout, sys.stderr = old
    text = out.text()
    if text:
        outputs.append({"output_type": "stream", "name": "stdout", "text": text})
    if error is not None:
        ename, evalue, tb = error
        outputs.append({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": tb})
    return outputs


def drop_privileges(job):
    """Preload the modules the program imports, then become the unprivileged user.

    Dropping happens here, not before exec, because the interpreter itself may sit where
    that user cannot read it (a pyenv Python under /root): every module the program names
    is imported first, as the grader, before any student code exists in this process."""
    for name in job.get("preload", ()):
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001, S110 (the cell importing it reports it)
            pass
    uid, gid = job.get("uid"), job.get("gid")
    if uid is None:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    os._exit(70)  # privileges could be regained: refuse to run student code


def main():
    job = json.loads(sys.stdin.read())
    drop_privileges(job)
    channel = os.fdopen(job["fd"], "w", encoding="utf-8", buffering=1)
    skip = set(job.get("skip", ()))
    signal.signal(signal.SIGALRM, _on_alarm)
    # The notebook's namespace is a fresh __main__ module, not this script's globals.
    notebook = types.ModuleType("__main__")
    notebook.__builtins__ = builtins
    sys.modules["__main__"] = notebook
    ns = vars(notebook)
    guard = Guard(ns)
    for index, cell in enumerate(job["cells"]):
        if index in skip:
            continue
        cell["index"] = index
        channel.write(json.dumps({"start": index}) + "\n")
        before = dict(ns)
        outputs = run_cell(cell, ns, job["output_cap"], job["cell_timeout"])
        if cell["kind"] == "student":
            guard.wrap_new(before)
        if cell["kind"] == "test":
            record = {"grade_id": cell["grade_id"], "outputs": outputs}
            channel.write(json.dumps(record) + "\n")
    channel.write(json.dumps({"done": True}) + "\n")
    channel.flush()
    os._exit(0)  # no atexit hooks of student code


if __name__ == "__main__":
    main()
