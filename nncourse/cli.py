"""The `nncourse` command: instructor tasks around nbgrader.

nncourse release                 # regenerate every course/<id>/ from solutions/<id>/
nncourse release 01_neuron       # only these assignments
nncourse list                    # the assignments in solutions/ and whether released
nncourse student-setup           # JupyterLab as students get it (Binder, browser tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nncourse import nbgrader_run
from nncourse.nbgrader_run import CourseError


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
        default="sys-prefix",
        help="configure this Python environment (default) or the user's Jupyter config",
    )
    p.add_argument("--dry-run", action="store_true", help="only print the commands")
    p.set_defaults(func=cmd_student_setup)
    return parser


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
