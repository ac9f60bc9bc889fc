"""The `nncourse` command: instructor tasks around nbgrader.

nncourse release                 # regenerate every course/<id>/ from solutions/<id>/
nncourse release 01_neuron       # only these assignments
nncourse list                    # the assignments in solutions/ and whether released
nncourse student-setup           # JupyterLab as students get it (Binder, browser tests)
nncourse autograde 01_neuron --workers 2   # grade submitted/ (sandboxed, parallel)
nncourse cells build/cells       # the solutions' code cells as .py files (for duplicates)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nncourse import nbgrader_run
from nncourse.nbgrader_run import CourseError

#: `nncourse autograde`'s exit status when some submission could not be graded (its row in
#: grades.csv says why); the others are graded and recorded all the same.
EXIT_SOME_FAILED = 3


def cmd_release(args) -> int:
    root = nbgrader_run.find_root(args.root)
    paths = nbgrader_run.release(root, args.assignments)
    for path in paths:
        print(f"released {path.relative_to(root)}")
    return 0


def cmd_list(args) -> int:
    root = nbgrader_run.find_root(args.root)
    for a in nbgrader_run.known_assignments(root):
        released = (root / nbgrader_run.RELEASE_DIR / a / f"{a}.ipynb").is_file()
        print(f"{a}\t{'released' if released else 'not released'}")
    return 0


def cmd_student_setup(args) -> int:
    from nncourse import student_setup

    env = nbgrader_run.nbgrader_env()  # the jupyter of this interpreter first on PATH
    return student_setup.run(args.level, env=env, dry_run=args.dry_run)


def cmd_autograde(args) -> int:
    from nncourse.autograde.options import Options
    from nncourse.autograde.runner import autograde

    options = Options(
        workers=args.workers,
        cell_timeout=args.cell_timeout,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        pids=args.pids,
        output_kb=args.output_kb,
        batch_timeout=args.batch_timeout,
        unsandboxed=args.unsandboxed,
        feedback=not args.no_feedback,
        progress=not args.no_progress,
    )
    from nncourse.autograde.jail import SandboxUnavailable

    try:
        results = autograde(args.root, args.assignments, options)
    except SandboxUnavailable as err:  # nothing was graded: say why, without a traceback
        raise CourseError(str(err)) from None
    failed = sum(o.status == "failed" for outcomes in results.values() for o in outcomes)
    return EXIT_SOME_FAILED if failed else 0


def cmd_cells(args) -> int:
    from nncourse import cells

    root = nbgrader_run.find_root(args.root)
    written = cells.extract(root, args.dest, args.assignments)
    print(f"wrote {len(written)} code cells under {args.dest}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncourse",
        description="Instructor tools for the nncourse nbgrader course "
        "(run from the repository root, or pass --root).",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="course root holding nbgrader_config.py and solutions/ "
        "(default: the current folder or the nearest one above it)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "release",
        help="regenerate course/<id>/ from solutions/<id>/ with nbgrader generate_assignment",
        description="Regenerate the student notebooks course/<id>/<id>.ipynb from the "
        "instructor notebooks solutions/<id>/<id>.ipynb. Deterministic: outputs and "
        "execution counts are cleared, stale files in course/<id>/ are removed, and no "
        "gradebook is left behind.",
    )
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("list", help="list the assignments and whether they are released")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "student-setup",
        help="configure JupyterLab as students get it (nbgrader instructor panels off)",
        description="Switch off nbgrader's instructor panels, its assignment list and "
        "JupyterLab's announcements; keep nbgrader's Validate button.",
    )
    p.add_argument(
        "--level",
        choices=["sys-prefix", "user"],
        default="user",
        help="configure the user's Jupyter config (default) or this Python environment "
        "(a single-user box such as Binder; refused where an exchange is configured)",
    )
    p.add_argument("--dry-run", action="store_true", help="only print the commands")
    p.set_defaults(func=cmd_student_setup)

    defaults = _autograde_defaults()
    p = sub.add_parser(
        "autograde",
        help="grade submitted/ into nbgrader's gradebook: sandboxed, parallel, trusted",
        description="Pre-flight every submission (repair what is safe, report the rest for "
        "that student alone), run its student cells in a bubblewrap sandbox (own uid, own "
        "cgroup, no network, none of the course visible) and its tests in a trusted process "
        "that reaches the student's code through a data-only channel, N at a time, and "
        "record the scores with nbgrader. Writes reports/<id>/grades.csv (status graded, "
        "late, failed with the reason, missing) and reports/<id>/scores.png. Exit status 3 "
        "if some submission could not be graded.",
    )
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    p.add_argument("--workers", type=int, default=defaults.workers, help="default: the cores")
    p.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout, help="s per cell")
    p.add_argument("--timeout", type=float, default=defaults.timeout, help="s per submission")
    p.add_argument("--memory-mb", type=int, default=defaults.memory_mb, help="per submission")
    p.add_argument("--pids", type=int, default=defaults.pids, help="processes per submission")
    p.add_argument("--output-kb", type=int, default=defaults.output_kb, help="kept per cell")
    p.add_argument(
        "--batch-timeout", type=float, default=defaults.batch_timeout, help="s per assignment"
    )
    p.add_argument(
        "--unsandboxed",
        action="store_true",
        help="run student code without bubblewrap (only for submissions you trust; every "
        "report row says so)",
    )
    p.add_argument("--no-feedback", action="store_true", help="skip generate_feedback")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_autograde)

    p = sub.add_parser(
        "cells",
        help="write the solutions' code cells as .py files, one per cell",
        description="Write each code cell of solutions/<id>/<id>.ipynb to "
        "DEST/<id>/c<NN>_<grade id>.py (DEST/<id>/ is emptied first), so that tools reading "
        "only Python files, such as a duplicate finder, see the notebooks' code too.",
    )
    p.add_argument("dest", type=Path, nargs="?", default=Path("build/cells"), metavar="DEST")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    p.set_defaults(func=cmd_cells)
    return parser


def _autograde_defaults():
    from nncourse.autograde.options import Options

    return Options()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CourseError as err:
        print(f"nncourse {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
