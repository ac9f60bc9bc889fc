"""Check and repair one submitted notebook before it is graded.

nbgrader 0.9.6 aborts a whole `autograde` batch on a single notebook it cannot sanitise
(a copy-pasted graded cell repeats a cell id, nbgrader#1083; emptied nbgrader metadata).
Here each submission is checked alone, against the released (student) version:

- unreadable: missing, not JSON, not a notebook, an nbformat other than 3 or 4, too big:
  reported for that student (status ``missing`` or ``failed``), never graded;
- repaired from the release, and each repair noted: missing or duplicate cell ids, a
  foreign kernel, emptied or altered nbgrader metadata (matched by cell id), a copy of a
  graded cell (the copy keeps its code as an ordinary cell), a graded cell turned into
  markdown, deleted graded cells (put back), outputs (cleared: nothing a student ran counts).
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_BYTES = 64 * 1024 * 1024  # a notebook file (outputs included: they are cleared)
MAX_CELL = 1024 * 1024  # characters of one cell's source
EXTRA_CELLS = 500  # cells a student may add to the release's


@dataclass
class Preflight:
    status: str  # "ok", "failed" (cannot be graded) or "missing" (nothing submitted)
    notebook: nbformat.NotebookNode | None = None
    reason: str = ""  # why it cannot be graded
    repairs: list[str] = field(default_factory=list)


def meta(cell) -> dict:
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _load(path: Path) -> tuple[nbformat.NotebookNode | None, str, list[str]]:
    """(notebook v4, reason it is unusable, repairs)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        return None, f"the notebook is {size / 2**20:.0f} MB (limit {MAX_BYTES // 2**20} MB)", []
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # (a link swapped in meanwhile)
        with os.fdopen(fd, "rb") as fh:
            raw = json.loads(fh.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return None, f"the notebook is not valid JSON ({err})", []
    except RecursionError:
        return None, "the notebook's JSON is nested too deeply", []
    except OSError as err:
        return None, f"the notebook cannot be read ({err.strerror})", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return None, "the file is JSON but not a notebook (no list of cells)", []
    major = raw.get("nbformat")
    repairs = []
    if major == 3:
        try:
            nb = nbformat.reads(json.dumps(raw), as_version=4)
        except Exception as err:  # noqa: BLE001 (any conversion failure is reported)
            return None, f"an nbformat 3 notebook that cannot be converted ({err})", []
        repairs.append("converted from nbformat 3 to 4")
    elif major == 4:
        nb = nbformat.from_dict(raw)
    else:
        return None, f"unsupported nbformat {major!r} (expected 4)", []
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = nbformat.NotebookNode()
        repairs.append("notebook metadata that was not a mapping replaced")
    minor = nb.get("nbformat_minor")
    if type(minor) is not int or not 0 <= minor < 100:
        nb["nbformat_minor"] = 5
        repairs.append(f"nbformat_minor {minor!r} replaced by 5")
    for i, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, f"cell {i} is not a code, markdown or raw cell", []
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s if isinstance(s, str) else str(s) for s in source)
        if not isinstance(source, str):
            return None, f"cell {i} has no text source", []
        if len(source) > MAX_CELL:
            if cell["cell_type"] == "code":
                mb = len(source) / 2**20
                return None, f"code cell {i} is {mb:.1f} MB (limit {MAX_CELL // 2**20} MB)", []
            source = source[:MAX_CELL]
            repairs.append(f"cell {i} cut to its first {MAX_CELL // 2**20} MB")
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        grading = cell["metadata"].get("nbgrader")
        if grading is not None and not (
            isinstance(grading, dict) and isinstance(grading.get("grade_id", ""), str)
        ):
            del cell["metadata"]["nbgrader"]  # restored from the release by cell id below
            repairs.append(f"invalid nbgrader metadata of cell {i} removed")
    return nb, "", repairs


def _fix_ids(nb, repairs):
    seen = set()
    for cell in nb.cells:
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen or len(cid) > 64:
            cell["id"] = _new_id()
            what = "a duplicate" if cid in seen else "a missing or invalid"
            repairs.append(f"{what} cell id {cid!r} replaced")
        seen.add(cell["id"])


def _as_cell(cell, cell_type: str):
    """The same cell with another type (a graded cell the student turned into markdown)."""
    common = {"id": cell.get("id") or _new_id(), "metadata": cell.get("metadata", {})}
    if cell_type == "code":
        return nbformat.v4.new_code_cell(cell.source, **common)
    return nbformat.v4.new_markdown_cell(cell.source, **common)


def _restore_cells(nb, release, repairs):
    by_gid = {meta(c)["grade_id"]: c for c in release.cells if meta(c).get("grade_id")}
    by_id = {c.get("id"): c for c in release.cells if meta(c).get("grade_id")}
    present = {meta(c).get("grade_id") for c in nb.cells}
    # Emptied or removed nbgrader metadata: found again through the cell id.
    for cell in nb.cells:
        ref = by_id.get(cell.get("id"))
        if not meta(cell) and ref is not None and meta(ref)["grade_id"] not in present:
            cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
            present.add(meta(ref)["grade_id"])
            repairs.append(f"emptied nbgrader metadata of {meta(ref)['grade_id']} restored")
    seen, cells = set(), []
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if "nbgrader" in cell.metadata and not gid:
            del cell.metadata["nbgrader"]
            repairs.append("nbgrader metadata without a grade id removed")
        elif gid and (gid not in by_gid or gid in seen):
            del cell.metadata["nbgrader"]
            why = "a copy of" if gid in seen else "an unknown graded cell"
            repairs.append(f"{why} {gid} kept as an ordinary cell")
        elif gid:
            seen.add(gid)
            ref = by_gid[gid]
            if cell.metadata["nbgrader"] != ref.metadata["nbgrader"]:
                cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
                repairs.append(f"altered nbgrader metadata of {gid} restored")
            if cell.cell_type != ref.cell_type:
                repairs.append(f"{gid} turned back from {cell.cell_type} into {ref.cell_type}")
                cell = _as_cell(cell, ref.cell_type)
            if meta(ref).get("locked") and not meta(ref).get("solution"):
                cell.source = ref.source
        cells.append(cell)
    nb.cells = cells
    # Deleted graded or locked cells: put back after the cell that precedes them.
    order = [meta(c)["grade_id"] for c in release.cells if meta(c).get("grade_id")]
    for i, gid in enumerate(order):
        if gid in seen:
            continue
        restored = copy.deepcopy(by_gid[gid])
        ids = {c.get("id") for c in nb.cells}
        if restored.get("id") in ids:
            restored["id"] = _new_id()
        at = len(nb.cells)
        for before in reversed(order[:i]):
            hits = [k for k, c in enumerate(nb.cells) if meta(c).get("grade_id") == before]
            if hits:
                at = hits[0] + 1
                break
        else:
            at = 0
        nb.cells.insert(at, restored)
        seen.add(gid)
        repairs.append(f"deleted cell {gid} put back")


def preflight(folder: Path, notebook: str, release: nbformat.NotebookNode) -> Preflight:
    """Check `folder/<notebook>.ipynb` against the release; repair what is safe."""
    path = Path(folder) / f"{notebook}.ipynb"
    if path.is_symlink():  # never followed: it could point at the solutions
        return Preflight("failed", reason=f"{notebook}.ipynb is a link, not a file: not read")
    if not path.is_file():
        others = sorted(p.name for p in Path(folder).glob("*.ipynb"))
        extra = f" (found {', '.join(others)})" if others else ""
        return Preflight("missing", reason=f"no {notebook}.ipynb was submitted{extra}")
    nb, reason, repairs = _load(path)
    if nb is None:
        return Preflight("failed", reason=reason)
    limit = len(release.cells) + EXTRA_CELLS
    if len(nb.cells) > limit:
        return Preflight(
            "failed", reason=f"the notebook has {len(nb.cells)} cells (limit {limit})"
        )
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.nbformat_minor)
    _fix_ids(nb, repairs)
    for key in ("kernelspec", "language_info"):
        if key in release.metadata and nb.metadata.get(key) != release.metadata[key]:
            old = (nb.metadata.get(key) or {}).get("name")
            nb.metadata[key] = copy.deepcopy(release.metadata[key])
            if key == "kernelspec":
                repairs.append(f"kernel {old!r} replaced by {release.metadata[key].get('name')!r}")
    _restore_cells(nb, release, repairs)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None) if cell.cell_type == "code" else None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        return Preflight("failed", reason=f"not a valid notebook after repairs ({err.message})")
    return Preflight("ok", nb, repairs=repairs)
