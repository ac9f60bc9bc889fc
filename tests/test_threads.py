"""nnlib sets BLAS threads to the CPUs a process may use (cgroup quota, affinity, variables)."""

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from nnlib import threads
from nnlib.threads import ThreadSetting, cgroup_quota_cpus, choose_threads, report

NO_VARIABLES: dict[str, str] = {}


def fake_cgroups(tmp_path, cgroup_lines, mounts, files):
    """/proc/self/cgroup, /proc/self/mountinfo and cgroup files under tmp_path.

    `mounts` are (fstype, root, folder under tmp_path, superblock options); `files` map
    paths under tmp_path to their content."""
    proc_cgroup = tmp_path / "cgroup"
    proc_cgroup.write_text("".join(line + "\n" for line in cgroup_lines))
    lines = [
        f"{30 + i} 23 0:{28 + i} {root} {tmp_path / folder} rw,relatime - {fs} cgroup {opts}"
        for i, (fs, root, folder, opts) in enumerate(mounts)
    ]
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("25 1 8:1 / / rw - ext4 /dev/sda1 rw\n" + "\n".join(lines) + "\n")
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content + "\n")
    return proc_cgroup, mountinfo


def test_cgroup_v2_cpu_max(tmp_path):
    paths = fake_cgroups(
        tmp_path,
        ["0::/user.slice/binder"],
        [("cgroup2", "/", "unified", "rw,nsdelegate")],
        {"unified/user.slice/binder/cpu.max": "150000 100000"},
    )
    assert cgroup_quota_cpus(*paths) == 1.5


def test_cgroup_v2_without_a_limit(tmp_path):
    paths = fake_cgroups(
        tmp_path,
        ["0::/a"],
        [("cgroup2", "/", "unified", "rw")],
        {"unified/a/cpu.max": "max 100000"},
    )
    assert cgroup_quota_cpus(*paths) is None


def test_cgroup_v1_quota_and_period(tmp_path):
    paths = fake_cgroups(
        tmp_path,
        ["5:memory:/m", "4:cpu,cpuacct:/docker/abc", "0::/"],
        [
            ("cgroup", "/", "cpu,cpuacct", "rw,cpu,cpuacct"),
            ("cgroup", "/", "memory", "rw,memory"),
        ],
        {
            "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000",
            "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
            "cpu,cpuacct/cpu.cfs_quota_us": "-1",
            "cpu,cpuacct/cpu.cfs_period_us": "100000",
        },
    )
    assert cgroup_quota_cpus(*paths) == 0.5


def test_cgroup_v1_unlimited(tmp_path):
    paths = fake_cgroups(
        tmp_path,
        ["1:cpu:/"],
        [("cgroup", "/", "cpu", "rw,cpu")],
        {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"},
    )
    assert cgroup_quota_cpus(*paths) is None


def test_a_parent_quota_limits_the_child(tmp_path):
    # The container's own cgroup has no quota; the one above it (the pod) has 2 CPUs.
    paths = fake_cgroups(
        tmp_path,
        ["3:cpu:/pod/container"],
        [("cgroup", "/", "cpu", "rw,cpu")],
        {
            "cpu/pod/container/cpu.cfs_quota_us": "-1",
            "cpu/pod/container/cpu.cfs_period_us": "100000",
            "cpu/pod/cpu.cfs_quota_us": "200000",
            "cpu/pod/cpu.cfs_period_us": "100000",
        },
    )
    assert cgroup_quota_cpus(*paths) == 2


def test_a_container_mount_shows_its_own_cgroup_at_the_top(tmp_path):
    # Docker without a cgroup namespace: the mount's root is the container's cgroup.
    paths = fake_cgroups(
        tmp_path,
        ["4:cpu:/docker/abc"],
        [("cgroup", "/docker/abc", "cpu", "rw,cpu")],
        {"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000"},
    )
    assert cgroup_quota_cpus(*paths) == 1


def test_a_cgroup_outside_the_mounted_root_reads_the_mount_point(tmp_path):
    # A cgroup namespace shows cgroups outside its root as relative ("/../.."): the
    # mounted folder is the nearest one this process can see.
    paths = fake_cgroups(
        tmp_path,
        ["0::/../../system.slice"],
        [("cgroup2", "/kubepods/pod1/c1", "fs", "rw")],
        {"fs/cpu.max": "100000 100000"},
    )
    assert cgroup_quota_cpus(*paths) == 1


def test_a_cgroup_v1_without_the_cpu_controller_is_no_quota(tmp_path):
    paths = fake_cgroups(
        tmp_path,
        ["2:memory:/m"],
        [("cgroup", "/", "memory", "rw,memory")],
        {"memory/m/cpu.cfs_quota_us": "100000", "memory/m/cpu.cfs_period_us": "100000"},
    )
    assert cgroup_quota_cpus(*paths) is None


def test_the_quota_wins_when_tighter_and_is_rounded_up():
    assert choose_threads(NO_VARIABLES, affinity=8, quota=1.0) == ThreadSetting(
        1, "quota", "cgroup CPU quota of 1 CPU"
    )
    assert choose_threads(NO_VARIABLES, affinity=8, quota=1.5).threads == 2
    assert choose_threads(NO_VARIABLES, affinity=8, quota=0.2).threads == 1


def test_the_affinity_wins_when_tighter_or_without_a_quota():
    assert choose_threads(NO_VARIABLES, affinity=2, quota=4.0) == ThreadSetting(
        2, "affinity", "2 CPUs in the affinity mask"
    )
    assert choose_threads(NO_VARIABLES, affinity=3, read_quota=False).threads == 3


def test_variables_override_in_order():
    setting = choose_threads({"OMP_NUM_THREADS": "3"}, affinity=8, quota=1.0)
    assert setting == ThreadSetting(3, "variable", "OMP_NUM_THREADS=3")
    both = {"NNLIB_NUM_THREADS": "2", "OMP_NUM_THREADS": "3"}
    assert choose_threads(both, affinity=8).detail == "NNLIB_NUM_THREADS=2"
    assert choose_threads({"MKL_NUM_THREADS": "4"}, affinity=1).threads == 4
    assert choose_threads({"OMP_NUM_THREADS": "4,2"}, affinity=1).threads == 4


def test_a_bad_course_variable_warns_and_falls_back():
    with pytest.warns(RuntimeWarning, match="NNLIB_NUM_THREADS"):
        setting = choose_threads({"NNLIB_NUM_THREADS": "many"}, affinity=2, quota=1.0)
    assert setting.source == "quota"


def test_report_is_one_line():
    assert report(ThreadSetting(1, "quota", "cgroup CPU quota of 1 CPU")) == (
        "BLAS: 1 thread (cgroup CPU quota of 1 CPU)"
    )
    assert report(ThreadSetting(2, "variable", "OMP_NUM_THREADS=2")) == (
        "BLAS: 2 threads (OMP_NUM_THREADS=2)"
    )


def test_this_machine_without_variables():
    # No cgroup quota here, or one: whatever it is, the choice follows the rule.
    setting = choose_threads(NO_VARIABLES)
    quota = cgroup_quota_cpus()
    limits = [threads.affinity_cpus()] + ([math.ceil(quota)] if quota else [])
    assert setting.threads == max(1, min(limits))


# --- A real cgroup v1 CPU quota of 1 CPU --------------------------------------------------

CPU_HIERARCHY = Path("/sys/fs/cgroup/cpu")
PROBE = (
    "import json, nnlib, threadpoolctl; "
    "print(json.dumps([nnlib.threads.report(), "
    "[p['num_threads'] for p in threadpoolctl.threadpool_info()]]))"
)


def clean_environment() -> dict[str, str]:
    """This environment without the thread variables (tests/conftest.py sets them)."""
    return {k: v for k, v in os.environ.items() if k not in threads.VARIABLES}


def probe(preexec_fn=None, env=None) -> tuple[str, list[int]]:
    """Import nnlib in a fresh interpreter; its report and threadpoolctl's thread counts."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean_environment() if env is None else env,
        preexec_fn=preexec_fn,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    line, counts = json.loads(out)
    return line, counts


@pytest.fixture
def one_cpu_cgroup():
    """A cgroup v1 with a CFS quota of 1 CPU; removed afterwards. Needs root."""
    if os.geteuid() != 0:
        pytest.skip("creating a cgroup needs root")
    if not (CPU_HIERARCHY / "cgroup.procs").is_file():
        pytest.skip("no cgroup v1 cpu hierarchy")
    folder = CPU_HIERARCHY / f"nncourse-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        period = int((folder / "cpu.cfs_period_us").read_text())
        (folder / "cpu.cfs_quota_us").write_text(str(period))
        yield folder
    finally:
        # The probe has exited, so the cgroup is empty and can go.
        folder.rmdir()


def test_importing_nnlib_in_a_one_cpu_cgroup_sets_one_thread(one_cpu_cgroup):
    if threads.affinity_cpus() < 2:
        pytest.skip("one CPU anyway: nothing to show")

    def enter():
        (one_cpu_cgroup / "cgroup.procs").write_text(str(os.getpid()))

    line, counts = probe(preexec_fn=enter)
    assert line == "BLAS: 1 thread (cgroup CPU quota of 1 CPU)"
    assert counts and set(counts) == {1}
    # Outside the cgroup, the same import keeps one thread per CPU of the affinity mask.
    _, free = probe()
    assert set(free) == {threads.affinity_cpus()}


def test_a_variable_overrides_the_quota(one_cpu_cgroup):
    def enter():
        (one_cpu_cgroup / "cgroup.procs").write_text(str(os.getpid()))

    line, counts = probe(enter, {**clean_environment(), "NNLIB_NUM_THREADS": "2"})
    assert line == "BLAS: 2 threads (NNLIB_NUM_THREADS=2)"
    assert set(counts) == {2}
