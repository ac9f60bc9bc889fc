"""The OS sandbox that student code runs in: bubblewrap, an unprivileged uid, a cgroup.

`Jail.start()` runs the sandbox server (`sandbox_server.py`) as

    bwrap --unshare-{pid,net,ipc,uts,cgroup} --die-with-parent --new-session --clearenv
          --ro-bind <interpreter and its packages> --ro-bind <view> /grader
          --bind <private copy of the submission> /home/student/work
          --tmpfs /tmp --tmpfs /dev/shm (size-capped) --proc /proc --dev /dev
          [as root: setpriv --reuid U --regid U --clear-groups --no-new-privs ...]
          python -s -B -m _nncourse_sandbox.server RFD WFD MAX

so it sees the interpreter, its site-packages, the `view` (a copy of nnlib in which the
functions the notebook asks the student to write are stubs, and the server's two files)
and its own working copy; nothing of the course tree, no network, no other process. When
the grader is root, the sandbox drops to `uid` before any of its own code runs
(`setpriv` is the only program started with privileges), and the whole sandbox joins the
submission's cgroup (memory and number of processes for all its processes together),
which the grader kills as a whole.
"""

from __future__ import annotations

import ast
import compileall
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "_nncourse_sandbox"
VIEW_MOUNT = "/grader"
WORK_MOUNT = "/home/student/work"
SETPRIV = "/usr/bin/setpriv"
HIDDEN_PACKAGES = ("nnlib", "nncourse")
FONT_CACHE = "matplotlib"  # in the view: the font list every sandbox starts from


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


# --- the view: stripped nnlib + the server ------------------------------------------


def _stub_body(target: str) -> list[ast.stmt]:
    from nnlib.grading.forbid import forbidden_message

    message = f"{forbidden_message(target)} (it is not available while grading)"
    return ast.parse(f"raise AssertionError({message!r})").body


def _strip(tree: ast.Module, qualnames: dict[str, str]) -> None:
    """Replace the body of every function whose qualified name is in `qualnames` (and of
    every method of such a class) by a stub that raises."""

    def visit(body, prefix, inside_hidden):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = f"{prefix}{node.name}"
                target = qualnames.get(qual) or inside_hidden
                if target:
                    doc = ast.get_docstring(node, clean=False)
                    node.body = ([ast.Expr(ast.Constant(doc))] if doc else []) + _stub_body(target)
                else:
                    visit(node.body, f"{qual}.<locals>.", None)
            elif isinstance(node, ast.ClassDef):
                qual = f"{prefix}{node.name}"
                visit(node.body, f"{qual}.", qualnames.get(qual) or inside_hidden)

    visit(tree.body, "", None)


def hidden_targets(names: set[str]) -> dict[Path, dict[str, str]]:
    """source file -> {qualified name: dotted name} of the functions the nnlib objects named
    in `names` stand for (dotted names such as ``nnlib.activations.sigmoid``; a class stands
    for its methods; re-exports resolve to where the function is defined, as for
    ``forbid``; names that resolve to no function are ignored)."""
    from nnlib.grading.forbid import code_keys

    out: dict[Path, dict[str, str]] = {}
    for dotted in sorted(names):
        try:
            keys = code_keys(dotted)
        except ValueError:
            continue
        for path, qualname in keys:
            out.setdefault(Path(path), {})[qualname] = dotted
    return out


def build_view(dest: Path, hidden: set[str]) -> Path:
    """A folder to mount read-only at /grader: nnlib (only .py files) with the `hidden`
    objects stubbed out, and the sandbox server package."""
    import nnlib

    dest = Path(dest)
    source = Path(nnlib.__file__).resolve().parent
    targets = hidden_targets(hidden)
    for path in sorted(source.rglob("*.py")):
        rel = path.relative_to(source)
        if "__pycache__" in rel.parts:
            continue
        out = dest / "nnlib" / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        if path.resolve() in targets:
            tree = ast.parse(text)
            _strip(tree, targets[path.resolve()])
            text = ast.unparse(tree) + "\n"
        out.write_text(text, encoding="utf-8")
    package = dest / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""The sandbox side of nncourse autograde."""\n')
    shutil.copy2(HERE / "wire.py", package / "wire.py")
    shutil.copy2(HERE / "sandbox_server.py", package / "server.py")
    # Work every sandbox would repeat, done once here from the course's own files: the
    # bytecode of the view (it is mounted read-only) and matplotlib's font list.
    compileall.compile_dir(dest, quiet=1)
    _font_cache(dest / FONT_CACHE)
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    dest.chmod(0o755)
    return dest


def _font_cache(folder: Path) -> None:
    """matplotlib's font list, built in `folder` (each sandbox copies it to its MPLCONFIGDIR
    instead of scanning the fonts again, about 0.3 s each)."""
    folder.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg"}
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,  # without a cache the sandbox builds its own, as before
    )


# --- cgroups -------------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Cgroup:
    """A cgroup (v1: one per controller; v2: one) holding every process of a sandbox."""

    paths: list[Path]
    memory_mb: int

    @classmethod
    def create(cls, name: str, memory_mb: int, pids: int) -> Cgroup | None:
        """None when cgroups cannot be used here (not root, nothing writable)."""
        if os.geteuid() != 0:
            return None
        limit = str(memory_mb * 2**20)
        if (CGROUP_ROOT / "cgroup.controllers").is_file():  # v2
            path = CGROUP_ROOT / "nncourse" / name
            try:
                (CGROUP_ROOT / "nncourse").mkdir(exist_ok=True)
                (CGROUP_ROOT / "nncourse" / "cgroup.subtree_control").write_text("+memory +pids")
                path.mkdir()
                (path / "memory.max").write_text(limit)
                (path / "memory.swap.max").write_text("0")
                (path / "pids.max").write_text(str(pids))
            except OSError:
                return None
            return cls([path], memory_mb)
        paths = []
        try:
            for controller, files in (
                ("memory", {"memory.limit_in_bytes": limit}),
                ("pids", {"pids.max": str(pids)}),
            ):
                path = CGROUP_ROOT / controller / "nncourse" / name
                path.mkdir(parents=True)
                paths.append(path)
                for key, value in files.items():
                    (path / key).write_text(value)
            swap = paths[0] / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(limit)
        except OSError:
            cls(paths, memory_mb).remove()
            return None
        return cls(paths, memory_mb)

    def join(self) -> None:
        """Move the calling process into the cgroup (run in the child before exec)."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        found = set()
        for path in self.paths:
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def kill(self) -> None:
        """SIGKILL every process in the cgroup until none is left (forks included)."""
        for _ in range(200):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def hit_memory_limit(self) -> bool:
        """Whether the kernel stopped a process of this cgroup at its memory limit (v1:
        memory.failcnt or the oom_kill count of memory.oom_control; v2: memory.events)."""
        for name in ("memory.failcnt", "memory.oom_control", "memory.events"):
            try:
                text = (self.paths[0] / name).read_text()
            except OSError:
                continue
            if name == "memory.failcnt" and int(text.strip() or 0) > 0:
                return True
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key in ("max", "oom_kill") and value.strip().isdigit() and int(value) > 0:
                    return True
        return False

    def peak_mb(self) -> float:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((self.paths[0] / name).read_text()) / 2**20
            except (OSError, ValueError):
                continue
        return 0.0

    def remove(self) -> None:
        self.kill()
        for path in self.paths:
            try:
                path.rmdir()
            except OSError:
                pass


# --- the jail ------------------------------------------------------------------------


@dataclass
class JailSpec:
    view: Path  # mounted read-only at /grader
    workdir: Path  # the private copy of the submission, writable, the working folder
    uid: int | None = None  # as root: the unprivileged user the sandbox becomes
    gid: int | None = None
    cgroup: Cgroup | None = None
    memory_mb: int = 2048  # per process when there is no cgroup
    tmp_mb: int = 64  # size of /tmp and of /dev/shm
    max_bytes: int = 512 * 2**20  # largest message
    data_dir: str | None = None  # NNLIB_DATA, read-only (public data sets)
    sandboxed: bool = True  # False: the instructor asked for an unsandboxed run
    env: dict = field(default_factory=dict)


def _interpreter_mounts() -> list[str]:
    """--ro-bind arguments for the interpreter, its standard library and site-packages."""
    roots = set()
    for prefix in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.add(os.path.realpath(prefix))
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    args = []
    for root in sorted(roots):
        if root.startswith("/usr/") or root == "/usr" or not os.path.isdir(root):
            continue  # /usr is mounted whole
        if any(root.startswith(other + "/") for other in roots if other != root):
            continue
        args += ["--ro-bind", root, root]
    return args


def _hide_installed_course() -> list[str]:
    """Empty folders over a non-editable install of nnlib/nncourse in site-packages."""
    paths: list[str] = []
    for key in ("purelib", "platlib"):
        base = sysconfig.get_paths().get(key)
        for name in HIDDEN_PACKAGES:
            path = os.path.join(base or "", name)
            if base and os.path.isdir(path) and os.path.realpath(path) not in paths:
                paths.append(os.path.realpath(path))
    return [arg for path in paths for arg in ("--tmpfs", path)]


def sandbox_env(spec: JailSpec) -> dict[str, str]:
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": VIEW_MOUNT if spec.sandboxed else str(spec.view),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",  # as under nbgrader: notebooks shorten trainings
    }
    if spec.data_dir:
        env["NNLIB_DATA"] = spec.data_dir
    env.update(spec.env)
    return env


def _with_parents(args: list[str]) -> list[str]:
    """bwrap makes missing parents of a mount point owner-only; make them 0755 first so
    the unprivileged user can reach what is mounted (an interpreter under /root)."""
    out, made = [], {"/"}
    i = 0
    while i < len(args):
        if args[i] in ("--ro-bind", "--bind"):
            dest = args[i + 2]
            parents = []
            parent = os.path.dirname(dest)
            while parent not in made and parent != "/":
                parents.append(parent)
                parent = os.path.dirname(parent)
            for folder in reversed(parents):
                out += ["--perms", "0755", "--dir", folder]
                made.add(folder)
            out += args[i : i + 3]
            i += 3
        else:
            out.append(args[i])
            i += 1
    return out


def bwrap_command(spec: JailSpec, rfd: int, wfd: int) -> list[str]:
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    as_root = os.geteuid() == 0
    cmd = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    cmd += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if not as_root:
        cmd += ["--unshare-user"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), f"/{name}"]
    mounts = _interpreter_mounts() + ["--ro-bind", str(spec.view), VIEW_MOUNT]
    if spec.data_dir and os.path.isdir(spec.data_dir):
        mounts += ["--ro-bind", os.path.realpath(spec.data_dir), spec.data_dir]
    cmd += _with_parents(mounts) + _hide_installed_course()
    size = str(spec.tmp_mb * 2**20)
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for folder in ("/tmp", "/dev/shm"):  # writable by the sandbox's user, like the host's
        cmd += ["--perms", "1777", "--size", size, "--tmpfs", folder]
    cmd += _with_parents(["--bind", str(spec.workdir), WORK_MOUNT]) + ["--chdir", WORK_MOUNT]
    for key, value in sandbox_env(spec).items():
        cmd += ["--setenv", key, value]
    if as_root and spec.uid is not None:
        cmd += [SETPRIV, f"--reuid={spec.uid}", f"--regid={spec.gid}", "--clear-groups"]
        cmd += ["--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    cmd += [sys.executable, "-s", "-B", "-m", f"{PACKAGE}.server", str(rfd), str(wfd)]
    cmd += [str(spec.max_bytes)]
    return cmd


class Jail:
    """One running sandbox: its process and the two pipe ends the grader talks on."""

    def __init__(self, spec: JailSpec):
        self.spec = spec
        self.proc: subprocess.Popen | None = None
        self.rfd = self.wfd = -1

    def start(self) -> Jail:
        spec = self.spec
        to_sandbox_r, to_sandbox_w = os.pipe()
        from_sandbox_r, from_sandbox_w = os.pipe()
        if spec.sandboxed:
            cmd = bwrap_command(spec, to_sandbox_r, from_sandbox_w)
            env = {"PATH": "/usr/bin:/bin"}
        else:
            cmd = [sys.executable, "-s", "-B", "-m", f"{PACKAGE}.server"]
            cmd += [str(to_sandbox_r), str(from_sandbox_w), str(spec.max_bytes)]
            env = sandbox_env(spec)
        cgroup, memory = spec.cgroup, spec.memory_mb * 2**20
        tmp_bytes = spec.tmp_mb * 2**20

        def preexec():
            import resource

            if cgroup is not None:
                cgroup.join()
            else:  # no cgroup: at least a limit per process
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if not spec.sandboxed:
                resource.setrlimit(resource.RLIMIT_FSIZE, (tmp_bytes * 4, tmp_bytes * 4))

        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_sandbox_r, from_sandbox_w),
            cwd=spec.workdir,
            env=env,
            start_new_session=True,
            preexec_fn=preexec,
        )
        os.close(to_sandbox_r)
        os.close(from_sandbox_w)
        self.wfd, self.rfd = to_sandbox_w, from_sandbox_r
        return self

    def kill(self) -> None:
        """Kill the sandbox and everything it started; close the pipes."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            if self.spec.cgroup is not None:
                self.spec.cgroup.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for fd in (self.rfd, self.wfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = -1
