"""Which cells of a submission are trusted, and what the sandbox must not see.

The trusted run executes, in the submission's order, two kinds of cells:

- **trusted** cells, run in the grader's process: every test cell and every locked
  instructor cell in its *source* version (hidden tests included), whatever the student
  did to it; an instructor cell without nbgrader metadata only if it is unchanged from the
  release (otherwise the student wrote it, and it counts as student code);
- **student** cells, run in the sandbox exactly as written: answer cells, and any cell
  the student added or changed. Student code is never rewritten.

`hidden_names` lists the nnlib objects the notebook asks the student to write: the
sandbox's copy of nnlib has them stubbed out, so an answer cannot delegate to them.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass
from typing import Literal

from nbgrader import utils

Kind = Literal["setup", "test", "student"]


@dataclass
class Cell:
    kind: Kind
    grade_id: str | None
    code: str
    label: str  # how messages and tracebacks name the cell

    def to_json(self) -> dict:
        return asdict(self)


def meta(cell) -> dict:
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def _answers(release) -> set[str]:
    return {
        meta(c)["grade_id"]
        for c in release.cells
        if meta(c).get("solution") and isinstance(meta(c).get("grade_id"), str)
    }


def build_program(submission, source, release) -> list[Cell]:
    """The cells of the trusted run for one (pre-flighted) submission notebook.

    `source` is the instructor notebook (hidden tests, solutions), `release` the student
    version; all three nbformat v4."""
    source_cells = {
        meta(c).get("grade_id"): c
        for c in source.cells
        if c.cell_type == "code" and meta(c).get("grade_id")
    }
    answers = _answers(release)
    plain = {c.get("id"): c.source for c in release.cells if c.cell_type == "code" and not meta(c)}
    cells = []
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        gid = meta(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        src_cell = source_cells.get(gid)
        label = gid or f"cell {index + 1}"
        if src_cell is not None and gid not in answers:
            kind = "test" if utils.is_grade(src_cell) else "setup"
            cells.append(Cell(kind, gid, src_cell.source, label))
        elif not meta(cell) and cell.get("id") in plain and plain[cell.get("id")] == cell.source:
            cells.append(Cell("setup", None, cell.source, label))
        else:
            cells.append(Cell("student", gid, cell.source, label))
    return cells


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def hidden_names(source, release) -> set[str]:
    """Dotted names of the nnlib objects this notebook asks the student to write.

    They are what its tests forbid (``forbid=...``, ``G.forbidden(fn, ...)``,
    ``_forbid_method("nnlib.m", "Class", "method")``, a ``FORBID = (...)`` constant) and
    every nnlib function or class named like an answer the student writes."""
    names: set[str] = set()
    for cell in source.cells:
        if cell.cell_type != "code" or not utils.is_grade(cell):
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                args = [s for a in node.args for s in _strings(a)]
                if len(node.args) == 3 and len(args) == 3 and args[0].startswith("nnlib."):
                    names.add(".".join(args))
                names.update(s for s in args if s.startswith("nnlib."))
                for kw in node.keywords:
                    names.update(s for s in _strings(kw.value) if s.startswith("nnlib."))
            elif isinstance(node, ast.Assign):
                names.update(s for s in _strings(node.value) if s.startswith("nnlib."))
    names.update(_same_named(_answer_names(release)))
    return names


def _answer_names(release) -> set[str]:
    answers = _answers(release)
    out = set()
    for cell in release.cells:
        if meta(cell).get("grade_id") not in answers:
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out.add(node.name)
    return out


def _same_named(answer_names: set[str]) -> set[str]:
    """nnlib.<module>.<name> for every public nnlib module defining one of the names."""
    import importlib
    import pkgutil

    import nnlib

    found = set()
    for info in pkgutil.walk_packages(nnlib.__path__, "nnlib."):
        if ".grading" in info.name or info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001, S112 (a module that needs an optional package)
            continue
        for name in answer_names:
            obj = getattr(module, name, None)
            if callable(obj) and getattr(obj, "__module__", None) == info.name:
                found.add(f"{info.name}.{name}")
    return found


def _without_magics(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)
