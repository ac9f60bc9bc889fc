"""Autograding on top of nbgrader with a real trust boundary: student code runs only in
an OS sandbox, the tests and scores only in a trusted process.

The parts, each with its own tests:

- `preflight`: check and repair one submitted notebook against the release;
- `program`: which cells are trusted (tests, instructor cells) and which are the
  student's, and what the sandbox must not see (the references the notebook asks for);
- `wire`: the data-only channel (typed messages, .npy arrays, handles, limits);
- `sandbox_server`: the sandbox's end (runs student cells, serves requests);
- `proxy`: the trusted end (student objects as `Remote` proxies);
- `jail`: bubblewrap, the unprivileged uid, the cgroup, the view of nnlib;
- `trusted_run`: one submission's program, cell by cell, with time limits;
- `zygote`: forks a fresh trusted process for each submission from a server that
  imported the trusted side once;
- `grade`: one submission (private copy, cgroup, trusted run), shared by `runner`
  (`nncourse autograde`) and `execute` (nbgrader's execution step);
- `inject`, `report`: outputs into nbgrader's gradebook; reports and feedback.

Nothing is imported here: the zygote imports only what a trusted run needs
(``from nncourse.autograde.runner import autograde``).
"""
