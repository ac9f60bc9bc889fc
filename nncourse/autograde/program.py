"""Which cells of a submission are trusted, and what the sandbox must not see.

The trusted run executes, in the submission's order:

- **test** cells, only in the grader's process, in their *source* version (hidden tests
  included) whatever the student did to them;
- **setup** cells (the instructor's other cells: locked ones in their source version, the
  others only if unchanged from the release) in the sandbox, where the student's code
  uses what they define, and *also* in the grader's process when a later test cell reads
  a name they bind. A demonstration that calls the student's code 60,000 times thus runs
  where those calls are cheap, and no test ever reads a value the sandbox computed;
- **student** cells, only in the sandbox, exactly as written: answer cells, and any cell
  the student added or changed. Student code is never rewritten.

A name a test cell reads that no trusted cell binds is the student's: it is the only kind
of name the grader asks the sandbox for (`student_names`).

`hidden_names` lists the nnlib objects the notebook asks the student to write (named in its
test cells or in the topic checkers they call): the sandbox's copy of nnlib has them
stubbed out, so an answer cannot delegate to them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import Literal

Kind = Literal["setup", "test", "student"]


@dataclass
class Cell:
    kind: Kind
    grade_id: str | None
    code: str
    label: str  # how messages and tracebacks name the cell
    trusted: bool = False  # a setup cell that also runs in the grader's process
    cell_id: str | None = None  # the notebook cell it came from (its outputs go there)

    def to_json(self) -> dict:
        return asdict(self)


def meta(cell) -> dict:
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def is_grade(cell) -> bool:
    """A graded cell (nbgrader's test cells). Not nbgrader.utils: importing nbgrader takes
    seconds, and the trusted run of every submission imports this module."""
    return meta(cell).get("grade") is True


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
            kind = "test" if is_grade(src_cell) else "setup"
            cells.append(Cell(kind, gid, src_cell.source, label, cell_id=cell.get("id")))
        elif not meta(cell) and cell.get("id") in plain and plain[cell.get("id")] == cell.source:
            cells.append(Cell("setup", None, cell.source, label, cell_id=cell.get("id")))
        else:
            cells.append(Cell("student", gid, cell.source, label, cell_id=cell.get("id")))
    _mark_trusted(cells)
    return cells


def _mark_trusted(cells: list[Cell]) -> None:
    """Setup cells run in the grader's process too when a later test reads what they bind
    (or what a setup cell so marked reads)."""
    needed: set[str] = set()
    for cell in reversed(cells):
        if cell.kind == "student":
            continue  # never trusted, and never read by a test as a trusted name
        bound, read = names_of(cell.code)
        if cell.kind == "test":
            needed = (needed - bound) | read
        else:
            cell.trusted = bool(bound & needed)
            if cell.trusted:
                needed = (needed - bound) | read


def names_of(code: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at its top level, names it reads anywhere and does not bind at
    its top level). Reads are over-counted (a function's own locals), which only makes a
    setup cell run trusted when it need not."""
    try:
        tree = ast.parse(_without_magics(code))
    except SyntaxError:
        return set(), set()
    bound: set[str] = set()
    read = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
    return bound, read - bound


def trusted_names(cells: list[Cell]) -> set[str]:
    """Names some trusted cell binds: the grader never takes them from the sandbox."""
    names: set[str] = set()
    for cell in cells:
        if cell.kind == "test" or cell.trusted:
            names |= names_of(cell.code)[0]
    return names


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def hidden_names(source, release) -> set[str]:
    """Dotted names of the nnlib objects this notebook asks the student to write.

    They are what its tests forbid (``forbid=...``, ``G.forbidden(fn, ...)``, a ``FORBID =
    (...)`` constant), every nnlib name in the topic checkers its tests call
    (``G.checks.<topic>``), and every nnlib function or class named like an answer the
    student writes."""
    names: set[str] = set()
    topics: set[str] = set()
    for cell in source.cells:
        if cell.cell_type != "code" or not is_grade(cell):
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        topics |= _checker_topics(tree)
        names |= _forbidden_in(tree)
    for topic in topics:
        names |= _checker_names(topic)
    names.update(_same_named(_answer_names(release)))
    return names


CHECKS = "nnlib.grading.checks"
_DOTTED_NNLIB = re.compile(r"nnlib(\.[A-Za-z_]\w*)+")


def _checker_topics(tree) -> set[str]:
    """The topics of nnlib.grading.checks a test cell uses: ``G.checks.<topic>``, or an
    import of ``nnlib.grading.checks.<topic>``."""
    topics = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "checks":
                topics.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module == CHECKS:
            topics.update(alias.name for alias in node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = (
                [node.module]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            topics.update(m.split(".")[3] for m in modules if m and m.startswith(CHECKS + "."))
    return topics


def _checker_names(topic: str) -> set[str]:
    """Every dotted nnlib name a topic checker spells out as a string: a checker names an
    nnlib object only to forbid it (its tables of mistakes are functions, not names)."""
    import importlib.util

    spec = importlib.util.find_spec(f"{CHECKS}.{topic}") if topic.isidentifier() else None
    if spec is None or not spec.origin:
        return set()
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _DOTTED_NNLIB.fullmatch(node.value)
    }


def _forbidden_in(tree) -> set[str]:
    """The nnlib names a test cell's calls and assignments spell out as strings."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            args = [s for a in node.args for s in _strings(a)]
            names.update(s for s in args if s.startswith("nnlib."))
            for kw in node.keywords:
                names.update(s for s in _strings(kw.value) if s.startswith("nnlib."))
        elif isinstance(node, ast.Assign):
            names.update(s for s in _strings(node.value) if s.startswith("nnlib."))
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
