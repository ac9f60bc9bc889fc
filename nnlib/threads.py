"""BLAS and OpenMP threads that match the CPUs this process may really use.

A container sees all of the host's cores, so OpenBLAS starts one thread per host core even
when the container may use only one CPU (mybinder.org: a CFS quota of 1 CPU on a many-core
host). The threads then take turns on that one CPU, and small matrix products, the bread
and butter of the course, get many times slower. `import nnlib` therefore sets every BLAS
and OpenMP pool (through threadpoolctl) to the number of CPUs the process may use: the
smaller of its CPU affinity and its cgroup CPU quota, rounded up, at least 1.

The usual variables win over that: ``NNLIB_NUM_THREADS`` first, then ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS``.

    >>> import nnlib
    >>> print(nnlib.threads.report())
    BLAS: 1 thread (cgroup CPU quota of 1 CPU)
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The variables that set the thread count, highest priority first.
VARIABLES = ("NNLIB_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

PROC_CGROUP = Path("/proc/self/cgroup")
PROC_MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class ThreadSetting:
    """How many BLAS/OpenMP threads nnlib chose, and why.

    `source` is "variable" (an environment variable named in `detail`), "quota" (the
    cgroup CPU quota is the tighter limit) or "affinity" (the CPUs the process may run on).
    `applied` is False when the thread pools could not be set (threadpoolctl missing)."""

    threads: int
    source: Literal["variable", "quota", "affinity"]
    detail: str
    applied: bool = True


def affinity_cpus() -> int:
    """Number of CPUs in this process's affinity mask (all CPUs where there is no mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _cgroup_memberships(proc_cgroup: Path) -> list[tuple[set[str], str]]:
    """(controllers, path) per line of /proc/self/cgroup; cgroup v2 has no controllers."""
    memberships = []
    for line in proc_cgroup.read_text().splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            memberships.append((set(filter(None, parts[1].split(","))), parts[2]))
    return memberships


def _cgroup_mounts(mountinfo: Path) -> list[tuple[str, str, str, set[str]]]:
    """(fstype, root, mount point, options) of every cgroup mount in /proc/self/mountinfo."""
    mounts = []
    for line in mountinfo.read_text().splitlines():
        fields, sep, tail = line.partition(" - ")
        left, right = fields.split(), tail.split()
        if sep and len(left) >= 5 and len(right) >= 3 and right[0] in ("cgroup", "cgroup2"):
            # Mount points escape spaces and other bytes as octal (\040).
            point = left[4].encode().decode("unicode_escape")
            mounts.append((right[0], left[3], point, set(right[2].split(","))))
    return mounts


def _own_folder(mount_root: str, mount_point: str, path: str) -> Path:
    """The folder of cgroup `path` under a mount of the hierarchy's `mount_root`."""
    root = mount_root.rstrip("/")
    if path == root or path.startswith(root + "/"):
        path = path[len(root) :]
    else:  # a cgroup namespace: the mount shows this process's own cgroup at its top
        path = ""
    return Path(mount_point, path.lstrip("/"))


def _quota_in(folder: Path, version: str) -> float | None:
    """The CPU quota (in CPUs) set on exactly this cgroup folder, None if unlimited."""
    try:
        if version == "cgroup2":
            # "150000 100000" is 1.5 CPUs; "max 100000" (no limit) fails int() below.
            quota, _, period = (folder / "cpu.max").read_text().partition(" ")
            return int(quota) / int(period or 100_000)
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_quota_cpus(
    proc_cgroup: Path = PROC_CGROUP, mountinfo: Path = PROC_MOUNTINFO
) -> float | None:
    """The tightest CPU quota (in CPUs, e.g. 1.5) on this process's cgroups, None if none.

    Reads cgroup v2 `cpu.max` and cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` of the
    process's cgroup and of every parent up to the mount point, since a parent's quota
    limits its children too."""
    try:
        memberships = _cgroup_memberships(proc_cgroup)
        mounts = _cgroup_mounts(mountinfo)
    except OSError:  # no /proc (not Linux)
        return None
    quotas = []
    for fstype, mount_root, mount_point, options in mounts:
        for controllers, path in memberships:
            if fstype == "cgroup2" and controllers:
                continue
            if fstype == "cgroup" and not ("cpu" in controllers and "cpu" in options):
                continue
            folder, top = _own_folder(mount_root, mount_point, path), Path(mount_point)
            while True:
                quota = _quota_in(folder, fstype)
                if quota is not None:
                    quotas.append(quota)
                if folder == top or top not in folder.parents:
                    break
                folder = folder.parent
    return min(quotas) if quotas else None


def _variable_threads(environ: Mapping[str, str]) -> tuple[str, int] | None:
    """The first thread variable set to a positive count, as (name, count)."""
    for name in VARIABLES:
        value = environ.get(name, "").strip()
        if not value:
            continue
        try:
            # OpenMP allows a list for nested levels ("4,2"); its first entry counts here.
            count = int(value.split(",")[0])
        except ValueError:
            count = 0
        if count >= 1:
            return name, count
        if name == "NNLIB_NUM_THREADS":
            warnings.warn(
                f"NNLIB_NUM_THREADS={value!r} is not a positive integer; ignored",
                RuntimeWarning,
                stacklevel=3,
            )
    return None


def _cpus(n: float) -> str:
    return f"{n:g} CPU" + ("" if n == 1 else "s")


def choose_threads(
    environ: Mapping[str, str] | None = None,
    affinity: int | None = None,
    quota: float | None = None,
    *,
    read_quota: bool = True,
) -> ThreadSetting:
    """The thread count for this process: a variable if set, else min(affinity, quota).

    `affinity` and `quota` default to this process's (`read_quota=False` skips reading
    the cgroup files, for a quota given or known to be absent)."""
    environ = os.environ if environ is None else environ
    found = _variable_threads(environ)
    if found:
        name, count = found
        return ThreadSetting(count, "variable", f"{name}={environ[name].strip()}")
    affinity = affinity_cpus() if affinity is None else affinity
    if quota is None and read_quota:
        quota = cgroup_quota_cpus()
    if quota is not None and math.ceil(quota) < affinity:
        threads = max(1, math.ceil(quota))
        return ThreadSetting(threads, "quota", f"cgroup CPU quota of {_cpus(quota)}")
    threads = max(1, affinity)
    return ThreadSetting(threads, "affinity", f"{_cpus(threads)} in the affinity mask")


def limit_threads(setting: ThreadSetting | None = None) -> ThreadSetting:
    """Set every loaded BLAS and OpenMP pool to `setting.threads` (default: chosen now)."""
    setting = choose_threads() if setting is None else setting
    import numpy  # noqa: F401  (loads numpy's BLAS, so that threadpoolctl finds it)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        # A dependency of the course; missing only where it was installed without its
        # dependencies. nnlib still works, with the BLAS's own thread count.
        return ThreadSetting(setting.threads, setting.source, setting.detail, applied=False)
    threadpool_limits(limits=setting.threads)
    return setting


def report(setting: ThreadSetting | None = None) -> str:
    """One line for a notebook's set-up cell, e.g. "BLAS: 1 thread (cgroup CPU quota of 1
    CPU)". Without an argument, the setting made when nnlib was imported."""
    if setting is None:
        import nnlib

        setting = nnlib.BLAS_THREADS
    if not setting.applied:
        return f"BLAS: threads not set, threadpoolctl is not installed ({setting.detail})"
    plural = "" if setting.threads == 1 else "s"
    return f"BLAS: {setting.threads} thread{plural} ({setting.detail})"
