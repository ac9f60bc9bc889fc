"""Honest reports of an autograde batch.

- ``reports/<id>/grades.csv``: one row per student with a status: ``graded``, ``late``
  (graded, submitted after the due date), ``failed`` (could not be graded; the reason is
  given, the score left empty, never 0.0) or ``missing`` (in the gradebook, nothing
  submitted); then the score (nbgrader's total, as `nbgrader export` has it), the
  autograded part, the manually graded part (written answers) and the points still
  awaiting manual grading in the formgrader, late penalty, repairs, notes and per-cell
  scores (``pending`` for a manual cell nobody has graded yet);
- ``reports/<id>/scores.png``: the distribution of scores per autograded exercise;
- feedback: nbgrader's own (``generate_feedback`` with `HideHiddenTests`, which never
  shows hidden tests) for graded students, a short page with the reason for the others;
- ``reports/<id>/superseded/<student>-<time>/``: what the gradebook held for a student
  whose new submission failed to grade (see `retire_stale`).
"""

from __future__ import annotations

import csv
import html
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import nbformat

from nncourse import nbgrader_run

STATUSES = ("graded", "late", "failed", "missing")
NBGRADER_TIMEOUT = 3600.0  # seconds for one nbgrader stage (the gradebook writer, feedback)


def collect_scores(db_url, assignment, outcomes, root: Path, log: str) -> None:
    """Read what nbgrader wrote for each graded student (and catch what it could not)."""
    from nbgrader.api import Gradebook, MissingEntry

    errors = [line for line in log.splitlines() if "ERROR" in line]
    with Gradebook(db_url) as gb:
        for out in outcomes.values():
            if out.status != "graded":
                continue
            marker = f"{out.student}/{assignment}"
            autograded = root / "autograded" / out.student / assignment / f"{assignment}.ipynb"
            if any(marker in line for line in errors) or not autograded.is_file():
                out.status = "failed"
                out.reason = "nbgrader could not record this submission (see its log)"
                continue
            try:
                sub = gb.find_submission(assignment, out.student)
            except MissingEntry:
                out.status, out.reason = "failed", "no gradebook entry after grading"
                continue
            out.score, out.max_score = float(sub.score), float(sub.max_score)
            out.seconds_late = float(sub.total_seconds_late or 0)
            for nb in sub.notebooks:  # grade_id -> nbgrader_run.CellScore
                out.cells.update(nbgrader_run.cell_scores(nb).cells)
            if out.seconds_late > 0:
                out.status = "late"


def retire_stale(db_url, assignment, outcomes, root: Path) -> None:
    """Take an earlier submission's grades out of the gradebook when the new one failed.

    Otherwise `nbgrader export` and the formgrader would go on showing the old score as if
    it were the grade of the notebook now in submitted/. Nothing is thrown away: the old
    grades and comments (manual ones too) and the old autograded notebook are moved to
    ``reports/<id>/superseded/<student>-<time>/``, and the student's row says so.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for out in outcomes.values():
            if out.status != "failed":
                continue
            try:
                sub = gb.find_submission(assignment, out.student)
            except MissingEntry:
                continue
            record = {
                "student": out.student,
                "assignment": assignment,
                "submitted": str(sub.timestamp),
                "score": sub.score,
                "max_score": sub.max_score,
                "grades": {
                    g.name: {
                        "auto_score": g.auto_score,
                        "manual_score": g.manual_score,
                        "extra_credit": g.extra_credit,
                        "max_score": g.max_score,
                    }
                    for nb in sub.notebooks
                    for g in nb.grades
                },
                "comments": {
                    c.name: c.manual_comment
                    for nb in sub.notebooks
                    for c in nb.comments
                    if c.manual_comment
                },
            }
            stamp = time.strftime("%Y%m%dT%H%M%S")
            dest = root / "reports" / assignment / "superseded" / f"{out.student}-{stamp}"
            dest.mkdir(parents=True, exist_ok=True)
            (dest / "grades.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
            autograded = root / "autograded" / out.student / assignment
            if autograded.is_dir():
                shutil.move(autograded, dest / "autograded")
            gb.remove_submission(assignment, out.student)
            out.notes.append(
                f"the gradebook held {record['score']:g}/{record['max_score']:g} from an "
                f"earlier submission: taken out, kept in {dest.relative_to(root)}"
            )


def add_missing(db_url, assignment, outcomes) -> None:
    """Students of the gradebook who submitted nothing for this assignment."""
    from nbgrader.api import Gradebook

    from nncourse.autograde.options import Outcome

    with Gradebook(db_url) as gb:
        for student in gb.students:
            if student.id not in outcomes:
                outcomes[student.id] = Outcome(student.id, "missing", "nothing was submitted")


def exercises(source: nbformat.NotebookNode) -> dict[str, str]:
    """Test cell grade_id -> the answer cell (exercise) it follows in the source.
    Manually graded cells (graded answer cells, such as written answers) are left out."""
    current, owner = "", {}
    for cell in source.cells:
        m = cell.get("metadata", {}).get("nbgrader", {})
        if m.get("solution") and m.get("grade"):
            continue
        if m.get("solution"):
            current = m["grade_id"]
        elif m.get("grade"):
            owner[m["grade_id"]] = current or m["grade_id"]
    return owner


def parts(o) -> dict[str, float]:
    """An outcome's score split: autograded test cells, manual cells, points pending."""
    auto = [c for c in o.cells.values() if not c.manual]
    manual = [c for c in o.cells.values() if c.manual]
    return {
        "auto_score": sum(c.score for c in auto),
        "auto_max_score": sum(c.max_score for c in auto),
        "manual_score": sum(c.score for c in manual),
        "manual_max_score": sum(c.max_score for c in manual),
        "manual_pending": sum(c.max_score for c in manual if c.pending),
    }


PARTS = ("auto_score", "auto_max_score", "manual_score", "manual_max_score", "manual_pending")


def cell_value(c) -> str:
    return "pending" if c.pending else f"{c.score:g}"


def write(root: Path, assignment: str, outcomes) -> list[Path]:
    out_dir = root / "reports" / assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in (out_dir.parent, out_dir):  # reports/ is the instructor's alone
        folder.chmod(0o700)
    cell_ids = sorted({gid for o in outcomes for gid in o.cells})
    csv_path = out_dir / "grades.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "student",
                "status",
                "score",
                "max_score",
                *PARTS,
                "seconds_late",
                "reason",
                "repairs",
                "notes",
            ]
            + cell_ids
        )
        for o in outcomes:
            graded = o.status in ("graded", "late")
            split = parts(o) if graded else {}
            writer.writerow(
                [
                    o.student,
                    o.status,
                    f"{o.score:g}" if graded else "",
                    f"{o.max_score:g}" if graded else "",
                    *(f"{split[k]:g}" if graded else "" for k in PARTS),
                    f"{o.seconds_late:g}" if graded else "",
                    o.reason,
                    "; ".join(o.repairs),
                    "; ".join(o.notes),
                ]
                + [cell_value(o.cells[g]) if graded and g in o.cells else "" for g in cell_ids]
            )
    source = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    png = plot(out_dir / "scores.png", assignment, outcomes, source)
    return [csv_path, png]


def plot(path: Path, assignment: str, outcomes, source) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    owner = exercises(source)  # the autograded test cells only
    points = {}
    for cell in source.cells:
        m = cell.get("metadata", {}).get("nbgrader", {})
        if m.get("grade") and m["grade_id"] in owner:
            ex = owner[m["grade_id"]]
            points[ex] = points.get(ex, 0.0) + float(m.get("points", 0))
    graded = [o for o in outcomes if o.status in ("graded", "late")]
    names = list(points) + ["total"]
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        if name == "total":  # of the autograded cells: written answers are graded later
            values, top = [parts(o)["auto_score"] for o in graded], sum(points.values())
        else:
            values = [
                sum(c.score for g, c in o.cells.items() if owner.get(g) == name) for o in graded
            ]
            top = points[name]
        ax.hist(values, bins=[x - 0.25 for x in _ticks(top)] + [top + 0.25], color="tab:blue")
        title = "autograded total" if name == "total" else name
        ax.set_title(f"{title} (/{top:g})", fontsize=9)
        ax.set_xlabel("score", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    counts = Counter(o.status for o in outcomes)
    status = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
    fig.suptitle(f"{assignment}: score per exercise ({status})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _ticks(top: float) -> list[float]:
    step = 0.5 if top <= 4 else max(1.0, round(top / 12))
    ticks, x = [], 0.0
    while x <= top + 1e-9:
        ticks.append(x)
        x += step
    return ticks


def feedback(root: Path, assignment: str, outcomes: dict, db_url: str) -> None:
    """nbgrader's feedback for graded students; the reason for everyone else."""
    if any(o.status in ("graded", "late") for o in outcomes.values()):
        try:
            nbgrader_run.run_nbgrader(
                root,
                ["generate_feedback", assignment, "--force"],
                db_url=db_url,
                check=False,
                timeout=NBGRADER_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            print(f"generate_feedback did not finish in {NBGRADER_TIMEOUT:g} s", file=sys.stderr)
    for o in outcomes.values():
        if o.status in ("graded", "late"):
            continue
        folder = root / "feedback" / o.student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        words = "was not graded" if o.status == "failed" else "is missing"
        repairs = "".join(f"<li>{html.escape(r)}</li>" for r in o.repairs)
        page = (
            f"<html><body><h1>{html.escape(assignment)}: your submission {words}</h1>"
            f"<p>{html.escape(o.reason)}</p>"
            + (f"<p>Repaired before grading:</p><ul>{repairs}</ul>" if repairs else "")
            + "<p>Please fix this and submit again, or ask your instructor.</p></body></html>"
        )
        page_path = folder / f"{assignment}.html"
        page_path.write_text(page, encoding="utf-8")
        # release_feedback copies modes into the exchange (the student must read it) and
        # needs the submission's timestamp and secret beside the page.
        page_path.chmod(0o644)
        for name in ("timestamp.txt", "submission_secret.txt"):
            src = root / "submitted" / o.student / assignment / name
            if src.is_file() and not src.is_symlink():
                shutil.copyfile(src, folder / name)


def summary(assignment: str, outcomes, seconds: float, workers: int) -> str:
    counts = Counter(o.status for o in outcomes)
    graded = [o for o in outcomes if o.status in ("graded", "late")]
    lines = [
        f"{assignment}: {len(outcomes)} students in {seconds:.1f} s with {workers} workers: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
    ]
    if graded:
        mean = sum(o.score for o in graded) / len(graded)
        lines.append(f"  mean score {mean:.2f} / {graded[0].max_score:g}")
        waiting = [o for o in graded if parts(o)["manual_pending"]]
        if waiting:
            split = parts(waiting[0])
            points = sum(parts(o)["manual_pending"] for o in waiting)
            who = "1 student" if len(waiting) == 1 else f"{len(waiting)} students"
            lines.append(
                f"  awaiting manual grading in the formgrader: {points:g} points of {who}, "
                f"counted as 0 until graded (of {waiting[0].max_score:g} points, "
                f"{split['auto_max_score']:g} are autograded, "
                f"{split['manual_max_score']:g} graded by hand)"
            )
    for o in outcomes:
        if o.status in ("failed", "missing"):
            lines.append(f"  {o.student}: {o.status}: {o.reason}")
    return "\n".join(lines)
