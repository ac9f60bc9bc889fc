"""Autograding a real class on top of nbgrader: pre-flight, isolated and trusted runs in
parallel, one gradebook writer, honest reports. See `runner` for the steps and README.md
(instructor section) for the command and the production container.

Nothing is imported here: `isolate` runs as a process of its own per submission and must
start fast (``from nncourse.autograde.runner import autograde, Options``).
"""
