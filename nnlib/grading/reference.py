"""Fresh copies of the grading helpers and of the nnlib reference modules.

A notebook's test cells share the kernel with the student's code, which may have rebound
names, on purpose or by accident: ``np.testing.assert_allclose = lambda *a, **k: None`` or
``nnlib.activations.sigmoid = my_sigmoid``. ``fresh()`` therefore loads the grading helpers
and, on demand, each nnlib reference module again *from its source file* into new module
objects, never reusing what ``sys.modules`` holds:

    from nnlib.grading import fresh
    G = fresh()
    G.check_output(sigmoid, z, expected=G.ref.activations.sigmoid(z), ...)

While a copy is being loaded, every ``nnlib`` entry of ``sys.modules`` is set aside, so the
copy's own imports (``from nnlib._checks import ...``) load fresh copies too, shared within
one ``fresh()`` result; afterwards ``sys.modules`` is put back exactly as it was. A topic's
checkers (``G.checks.backprop``, from ``nnlib/grading/checks/``) are loaded the same way, so
the references they import at their top are fresh copies as well.
"""

from __future__ import annotations

import importlib
import sys


def _ours(name: str) -> bool:
    return name == "nnlib" or name.startswith("nnlib.")


class FreshLoader:
    """Loads ``nnlib`` modules from source into new module objects (one copy per name)."""

    def __init__(self):
        self.modules: dict = {}

    def load(self, name: str):
        """The fresh copy of module ``name`` (e.g. ``"nnlib.activations"``)."""
        if not _ours(name):
            raise ValueError(f"only nnlib modules can be loaded afresh, not {name!r}")
        if name in self.modules:
            return self.modules[name]
        saved = {k: v for k, v in sys.modules.items() if _ours(k)}
        for k in saved:
            del sys.modules[k]
        sys.modules.update(self.modules)
        try:
            module = importlib.import_module(name)
            self.modules.update({k: v for k, v in sys.modules.items() if _ours(k)})
        finally:
            for k in [k for k in sys.modules if _ours(k)]:
                del sys.modules[k]
            sys.modules.update(saved)
        return module


class References:
    """``G.ref.<name>``: the fresh copy of ``nnlib.<name>`` (loaded on first use)."""

    def __init__(self, loader: FreshLoader):
        self._loader = loader

    def __getattr__(self, name: str):
        if name.startswith("__"):  # dunder lookups (copy, pickle) are not modules
            raise AttributeError(name)
        module = self._loader.load(f"nnlib.{name}")
        setattr(self, name, module)
        return module


class Checks(References):
    """``G.checks.<topic>``: the fresh copy of ``nnlib.grading.checks.<topic>``."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        module = self._loader.load(f"nnlib.grading.checks.{name}")
        setattr(self, name, module)
        return module


class Grader:
    """The grading helpers of a fresh copy of ``nnlib.grading``, plus ``ref`` (the
    references) and ``checks`` (each topic's checkers), loaded in the same fresh copy."""

    def __init__(self, grading, loader: FreshLoader):
        for name in grading.__all__:
            if name != "fresh":
                setattr(self, name, getattr(grading, name))
        self.ref = References(loader)
        self.checks = Checks(loader)

    def __repr__(self) -> str:
        return "<fresh nnlib.grading helpers; references under .ref>"


def fresh() -> Grader:
    """A freshly loaded copy of the grading helpers, with fresh references under ``.ref``."""
    loader = FreshLoader()
    return Grader(loader.load("nnlib.grading"), loader)
