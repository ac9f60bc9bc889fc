"""Autograding a real class on top of nbgrader: pre-flight, isolated and trusted runs in
parallel, one gradebook writer, honest reports. See `runner` for the steps and README.md
(instructor section) for the command and the production container."""

from nncourse.autograde.runner import Options, Outcome, autograde, grade_assignment

__all__ = ["Options", "Outcome", "autograde", "grade_assignment"]
