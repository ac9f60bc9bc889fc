"""Honest grading: an answer that merely calls the nnlib reference earns nothing.

``with forbidden(student_fn, "nnlib.activations.sigmoid") as fn: fn(z)`` runs the student's
function while the reference ``nnlib.activations.sigmoid`` is disabled: calling it raises an
AssertionError that says so ("this exercise asks you to write sigmoid yourself; calling
nnlib.activations.sigmoid earns no points"). Everything is restored afterwards.

How: rather than hunting for every name the reference might be bound to, the *function
objects* themselves are disabled. Every Python function whose code comes from the
reference (same source file, same qualified name) gets its ``__code__`` swapped for a stub
for the duration of the call. That catches, with one mechanism, all the ways an answer can
reach the reference: ``nnlib.activations.sigmoid(z)``, ``import nnlib.activations as A;
A.sigmoid(z)``, ``from nnlib.activations import sigmoid as s``, the reference stored in a
closure, a default argument, a dict (``ELEMENTWISE``), a ``functools.partial``, a freshly
loaded copy of the module (``G.ref.activations`` included), or the answer being the
reference itself (``sigmoid = nnlib.activations.sigmoid``). Functions are found with
``gc.get_objects()`` (a few tens of milliseconds in a notebook kernel).

Methods and classes are targets too: ``"nnlib.neuron.SigmoidNeuron.step"`` disables one
method (a subclass that inherits it included), ``"nnlib.layers.Dropout"`` every function
defined in the class: its methods, static and class methods, the getters and setters of
its properties and the methods of classes nested in it. A method that uses ``super()``
(a closure over ``__class__``) is disabled like any other. The target's module is imported
first, so an answer that imports it only while it runs still finds the reference disabled.

Limits: C functions and code the student copied by hand are not recognised; see the
package docstring for what in-kernel grading can and cannot prevent.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import inspect
import os
import sys
import types

from nnlib.grading.reference import FreshLoader


def forbidden_message(target: str) -> str:
    """What a student reads who called the reference of what they must write."""
    owner, _, what = target.rpartition(".")
    if what.startswith("_"):  # a private or special method (Network.__init__): no name to give
        what = "this"
    elif owner.rpartition(".")[2][:1].isupper():  # a method: the exercise is not named after it
        what = "it"
    return f"this exercise asks you to write {what} yourself; calling {target} earns no points"


def _stub_code(message: str, n_free: int = 0) -> types.CodeType:
    """The code of ``def f(*args, **kwargs): raise AssertionError(message)``.

    It refers only to a builtin, so it runs correctly inside any module's globals. With
    ``n_free`` it has that many free variables (never read), so that it can replace the
    code of a closure, such as a method calling ``super()``, whose cells must stay as many.
    """
    names = [f"_free{i}" for i in range(n_free)]
    body = f"    raise AssertionError({message!r})\n"
    if names:  # the names are read after the raise: free variables, never evaluated
        body += f"    {', '.join(names)}\n"
    source = "def _forbidden(*args, **kwargs):\n" + body
    if names:
        inner = "".join(f"    {line}\n" for line in source.splitlines())
        source = f"def _outer():\n    {' = '.join(names)} = None\n{inner}    return _forbidden\n"
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - a fixed stub; the message is a repr'd constant
    func = namespace["_outer"]() if names else namespace["_forbidden"]
    assert len(func.__code__.co_freevars) == n_free
    return func.__code__


def _resolve(target: str):
    """(module name, object) a dotted ``target`` names: the longest importable module
    prefix, then attributes.

    nnlib modules are loaded afresh from their source files (see ``reference``), so a
    student who rebound ``nnlib.activations.sigmoid = my_sigmoid`` does not get their own
    function forbidden in place of the reference. Re-exported names
    (``"nnlib.data.one_hot"``) and methods (``"nnlib.perceptron.Perceptron.fit"``) resolve
    to the function that is actually defined.
    """
    parts = target.split(".")
    load = FreshLoader().load if parts[0] == "nnlib" else importlib.import_module
    for cut in range(len(parts), 0, -1):
        try:
            obj = load(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return ".".join(parts[:cut]), obj
    raise ValueError(f"cannot forbid {target!r}: nothing of that name can be imported")


_KEYS: dict[str, list[tuple[str, str]]] = {}  # target -> code keys, resolved once per copy
_MODULES: dict[str, str] = {}  # target -> the module it is defined in


def _functions(obj, seen=None) -> list:
    """The Python functions ``obj`` stands for: itself (unwrapped) for a function or a
    method; the functions inside a static or class method or a property; for a class, those
    of every member defined in its body, nested classes included (inherited ones are not:
    they are the base class's)."""
    if isinstance(obj, type):
        seen = set() if seen is None else seen
        if obj in seen:
            return []
        seen.add(obj)
        return [f for member in vars(obj).values() for f in _functions_of_member(member, seen)]
    if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
        return _functions(obj.__func__)
    if isinstance(obj, property):
        return [f for f in (obj.fget, obj.fset, obj.fdel) if f is not None]
    if isinstance(obj, functools.cached_property):
        return [obj.func]
    return [inspect.unwrap(obj)]


def _functions_of_member(member, seen) -> list:
    if isinstance(member, type):
        return _functions(member, seen)
    kinds = (types.FunctionType, staticmethod, classmethod, property, functools.cached_property)
    return _functions(member) if isinstance(member, kinds) else []


def code_keys(target: str) -> list[tuple[str, str]]:
    """(realpath of the source file, qualified name) of every function ``target`` stands for.

    A function or method gives one key (a property: one per getter, setter, deleter); a
    class gives one per function defined in it (see ``_functions``). Raises ``ValueError``
    when ``target`` names no Python function, so a typo in a test cell never silently
    forbids nothing.
    """
    if target in _KEYS:
        return _KEYS[target]
    module, obj = _resolve(target)
    functions = _functions(obj)
    keys = []
    for func in functions:
        code = getattr(func, "__code__", None)
        if code is None:
            raise ValueError(f"cannot forbid {target!r}: it is not a Python function or class")
        qualname = getattr(code, "co_qualname", func.__qualname__)
        keys.append((os.path.realpath(code.co_filename), qualname))
    if not keys:
        raise ValueError(f"cannot forbid {target!r}: it defines no Python function")
    _KEYS[target] = keys
    _MODULES[target] = module
    return keys


def _import_modules(targets) -> None:
    """Import the module of each target (resolved by ``code_keys``) into ``sys.modules``,
    so that an answer importing it only during the call gets the disabled functions."""
    for target in targets:
        module = _MODULES.get(target)
        if module and module not in sys.modules:
            with contextlib.suppress(Exception):  # a module that cannot load has nothing to call
                importlib.import_module(module)


def _matching_functions(wanted: dict) -> list[tuple[types.FunctionType, str]]:
    """(function, target) for every live function whose (file, qualname) is in ``wanted``.

    ``wanted`` maps (realpath of source file, qualified name) -> target; one pass over
    ``gc.get_objects()`` serves all targets.
    """
    names = {qualname for _, qualname in wanted}
    found = []
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType:
            code = obj.__code__
            qualname = getattr(code, "co_qualname", code.co_name)
            if qualname in names:
                key = (os.path.realpath(code.co_filename), qualname)
                if key in wanted:
                    found.append((obj, wanted[key]))
    return found


def _as_targets(targets) -> tuple[str, ...]:
    if isinstance(targets, str):
        return (targets,)
    return tuple(targets)


@contextlib.contextmanager
def forbidden(fn, targets=()):
    """Context manager: the references named in ``targets`` raise while it is active.

    ``targets`` is a dotted name (``"nnlib.activations.sigmoid"``) or a tuple of them.
    Yields ``fn`` (unchanged; if ``fn`` is the reference itself, calling it now raises).
    """
    swapped: list[tuple[types.FunctionType, types.CodeType]] = []
    if getattr(type(fn), "__nncourse_remote__", False):
        # Graded in the sandbox, where the reference is absent: nothing to disable here.
        yield fn
        return
    try:
        wanted = {}
        for target in _as_targets(targets):
            for key in code_keys(target):
                wanted[key] = target
        _import_modules(set(wanted.values()))
        stubs: dict[tuple[str, int], types.CodeType] = {}
        for func, target in _matching_functions(wanted) if wanted else ():
            n_free = len(func.__code__.co_freevars)  # a closure keeps its cells: as many
            if (target, n_free) not in stubs:
                stubs[target, n_free] = _stub_code(forbidden_message(target), n_free)
            swapped.append((func, func.__code__))
            func.__code__ = stubs[target, n_free]
        yield fn
    finally:
        for func, code in reversed(swapped):
            func.__code__ = code


def forbid(fn, *targets):
    """Return a wrapper of ``fn`` that runs it with the references ``targets`` disabled."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with forbidden(fn, targets) as inner:
            return inner(*args, **kwargs)

    return wrapper
