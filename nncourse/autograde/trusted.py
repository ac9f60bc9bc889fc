"""The program whose scores count: instructor cells and tests from the source notebook,
student cells reduced to definitions.

nbgrader runs the submitted notebook as it is, so a top-level statement in an answer cell
(``np.testing.assert_allclose = ...``, ``get_ipython().input_transformers_cleanup...``,
``def fresh(): ...``) runs before the tests and can make them pass. Here the trusted run
(`sandbox.py`) executes, in the submission's cell order:

- locked instructor cells and every test cell in their *source* version (hidden tests
  included), whatever the student did to them; instructor cells without nbgrader
  metadata as released, if the student left them unchanged;
- each student code cell reduced by AST to imports, function and class definitions and
  assignments of plain constants. Decorators, class keywords (metaclasses), annotations
  and calls in default values are removed; so is any definition of a name the instructor
  cells, the tests or Python's builtins use. What was dropped is reported, never run.

The student's functions still run when the tests call them; `sandbox.Guard` checks
those calls.
"""

from __future__ import annotations

import ast
import builtins

from nbgrader import utils

SAFE_DECORATORS = {"staticmethod", "classmethod", "property"}
MAGIC_PREFIXES = ("%", "!")


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def strip_magics(source: str) -> str:
    """Instructor cells may hold IPython magics (``%matplotlib inline``): drop them."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = [
        "pass" if line.lstrip().startswith(MAGIC_PREFIXES) else line for line in source.split("\n")
    ]
    return "\n".join(lines)


def _safe_expr(node) -> bool:
    """A constant expression without calls, lambdas or comprehensions."""
    if node is None:
        return True
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_safe_expr(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(
            _safe_expr(k) and _safe_expr(v) for k, v in zip(node.keys, node.values, strict=False)
        )
    if isinstance(node, ast.UnaryOp):
        return _safe_expr(node.operand)
    if isinstance(node, ast.BinOp):
        return _safe_expr(node.left) and _safe_expr(node.right)
    if isinstance(node, ast.Attribute):
        return _safe_expr(node.value)
    return False


def _clean_args(args: ast.arguments) -> bool:
    for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if a is not None:
            a.annotation = None
    return all(_safe_expr(d) for d in (*args.defaults, *args.kw_defaults))


def _clean_function(node) -> str | None:
    """Make a def safe to execute; the reason it cannot be, or None."""
    for dec in node.decorator_list:
        if not (isinstance(dec, ast.Name) and dec.id in SAFE_DECORATORS):
            return "a decorator runs code when the function is defined"
    node.returns = None
    if not _clean_args(node.args):
        return "a default value that calls code"
    return None


def _clean_class(node) -> str | None:
    for dec in node.decorator_list:
        if not (isinstance(dec, ast.Name) and dec.id in SAFE_DECORATORS):
            return "a class decorator runs code"
    if node.keywords:
        return "class keywords (a metaclass) run code"
    if not all(_safe_expr(b) for b in node.bases):
        return "a base class computed by a call"
    body = []
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _clean_function(stmt) is None:
                body.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            if _clean_class(stmt) is None:
                body.append(stmt)
        elif isinstance(stmt, ast.Assign) and _safe_expr(stmt.value):
            body.append(stmt)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            body.append(stmt)
        elif isinstance(stmt, ast.Pass):
            body.append(stmt)
    node.body = body or [ast.Pass()]
    return None


def _bound_names(stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names]
    if isinstance(stmt, ast.Assign):
        return [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _nodes(sources: list[str]):
    """Every AST node of the cells that parse (magics stripped); the others are skipped."""
    for src in sources:
        try:
            tree = ast.parse(strip_magics(src))
        except SyntaxError:
            continue
        yield from ast.walk(tree)


def names_used_by(sources: list[str]) -> set[str]:
    """Every name bound or read by the instructor and test cells."""
    names = set()
    for node in _nodes(sources):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def import_pairs(sources: list[str]) -> set[tuple[str, str]]:
    """(what, bound name) of every import in the instructor cells: a student may repeat
    those (``import numpy as np``) even though the name is protected."""
    pairs = set()
    for node in _nodes(sources):
        pairs.update(_import_pairs(node))
    return pairs


def _import_pairs(node) -> set[tuple[str, str]]:
    if isinstance(node, ast.Import):
        return {(a.name, (a.asname or a.name).split(".")[0]) for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names}
    return set()


def reduce_student_code(
    source: str, protected: set[str], allowed_imports: set[tuple[str, str]] = frozenset()
) -> tuple[str, list[str]]:
    """(code to run, notes on what was dropped) for one student cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        # The error itself is what the student should see: keep it, it defines nothing.
        return f"raise SyntaxError({str(err)!r})", [f"syntax error: {err}"]
    kept, notes = [], []
    for stmt in tree.body:
        reason = None
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                reason = "future imports"
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            reason = _clean_function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            reason = _clean_class(stmt)
        elif isinstance(stmt, ast.Assign):
            targets_ok = all(isinstance(t, ast.Name) for t in stmt.targets)
            if not (targets_ok and _safe_expr(stmt.value)):
                reason = "only definitions and constant assignments are run by the grader"
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            pass
        elif isinstance(stmt, ast.Pass):
            pass
        else:
            reason = "only definitions and constant assignments are run by the grader"
        if reason is None:
            bound = set(_bound_names(stmt))
            bound -= {name for _, name in _import_pairs(stmt) & allowed_imports}
            clash = sorted(bound & protected)
            if clash:
                reason = f"it rebinds {', '.join(clash)}, which the grader's own cells use"
        if reason is None:
            kept.append(stmt)
        else:
            text = ast.get_source_segment(source, stmt) or type(stmt).__name__
            first = text.strip().split("\n")[0][:70]
            notes.append(f"line {stmt.lineno} not run ({reason}): {first}")
    module = ast.Module(body=kept, type_ignores=[])
    return ast.unparse(module), notes


def preload_modules(cells: list[dict]) -> list[str]:
    """Every module any cell imports (anywhere, also inside functions), parents first."""
    names = []
    for cell in cells:
        try:
            tree = ast.parse(cell["code"])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names.extend(f"{node.module}.{a.name}" for a in node.names)
    out = []
    for name in names:
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            dotted = ".".join(parts[:k])
            if dotted not in out:
                out.append(dotted)
    return out


def build_program(submission, source, release) -> tuple[list[dict], list[str]]:
    """The cells of the trusted run for one (pre-flighted) submission notebook.

    `source` is the instructor notebook (hidden tests, solutions), `release` the student
    version; both nbformat v4. Returns (cells, notes)."""
    source_cells = {meta(c).get("grade_id"): c for c in source.cells if meta(c).get("grade_id")}
    release_answers = {
        meta(c)["grade_id"]
        for c in release.cells
        if meta(c).get("solution") and meta(c).get("grade_id")
    }
    instructor_sources = [
        c.source
        for c in source.cells
        if c.cell_type == "code" and meta(c).get("grade_id") not in release_answers
    ]
    answer_names = set()
    for c in release.cells:
        if meta(c).get("grade_id") in release_answers:
            try:
                for stmt in ast.parse(c.source).body:
                    answer_names.update(_bound_names(stmt))
            except SyntaxError:
                pass
    allowed = import_pairs(instructor_sources)
    protected = (names_used_by(instructor_sources) | set(dir(builtins))) - answer_names

    # Instructor code cells without nbgrader metadata: run in full if left unchanged.
    plain = {c.get("id"): c.source for c in release.cells if c.cell_type == "code" and not meta(c)}
    cells, notes = [], []
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        gid = meta(cell).get("grade_id")
        src_cell = source_cells.get(gid)
        if src_cell is not None and gid not in release_answers:
            kind = "test" if utils.is_grade(src_cell) and src_cell.cell_type == "code" else "setup"
            cells.append({"kind": kind, "grade_id": gid, "code": strip_magics(src_cell.source)})
            continue
        if not gid and plain.get(cell.get("id")) == cell.source:
            cells.append({"kind": "setup", "grade_id": None, "code": strip_magics(cell.source)})
            continue
        code, dropped = reduce_student_code(strip_magics(cell.source), protected, allowed)
        label = gid or f"cell {cell.get('id', '?')}"
        notes.extend(f"{label}: {n}" for n in dropped)
        cells.append({"kind": "student", "grade_id": gid, "code": code})
    return cells, notes
