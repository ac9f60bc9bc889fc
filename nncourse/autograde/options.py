"""Options of `nncourse autograde` and the outcome per student (no heavy imports: the
command line reads the defaults for its --help)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Options:
    workers: int = os.cpu_count() or 1
    cell_timeout: float = 120.0  # seconds per cell
    timeout: float = 900.0  # seconds per submission
    memory_mb: int = 2048  # all processes of a submission together (its cgroup)
    pids: int = 64  # processes and threads of a submission together
    output_kb: int = 256  # output kept per cell (bytes, not lines)
    batch_timeout: float = 6 * 3600.0  # seconds for a whole assignment's batch
    # Student code runs only in the bubblewrap sandbox unless the instructor asks for an
    # unsandboxed run (then every report row says so).
    unsandboxed: bool = False
    # uid of worker slot k is uid_base + k (when run as root). By default each batch gets
    # its own range (from its pid), so two batches never kill each other's processes.
    uid_base: int | None = None
    feedback: bool = True
    progress: bool = True


Status = Literal["ok", "graded", "late", "failed", "missing"]  # "ok": pre-flight passed


@dataclass
class Outcome:
    student: str
    status: Status
    reason: str = ""
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    max_rss_mb: float = 0.0
    score: float | None = None
    max_score: float | None = None
    cells: dict = field(default_factory=dict)
    seconds_late: float = 0.0
