"""A term's workflow on one server, end to end: JupyterHub with Unix accounts (PAM), the
nbgrader exchange, an instructor and three students in Chromium.

The instructor releases 01_neuron; each student logs in, fetches it in the Assignments
panel, answers (solved / half solved / untouched), validates and submits, the half-solved
one after the due date; the instructor collects, autogrades with the late penalty of the
README, releases feedback; each student fetches it and sees their score; the export has
every submission time and the late one penalised. Then each student account tries to read
what only the instructor (or another student) may read. The tests of this module run in
order on one class.
"""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from assignments_panel import Person
from nbgrader_harness import grade_id, strip_markers

pytestmark = [pytest.mark.hub, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_neuron"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
SCORE = re.compile(rf"{ASSIGNMENT} \(Score: ([0-9.]+) / ([0-9.]+)\)")


def readme_late_penalty() -> str:
    """The late-penalty example of the README's instructor section, as the instructor
    copies it into nbgrader_config.py."""
    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    (block,) = [b for b in blocks if "LateSubmissionPlugin" in b]
    return block


def answers(release, how: str):
    """The fetched notebook answered: every answer cell from the solution ("solved"), the
    first half of them ("half"), or none ("untouched")."""
    source = nbformat.read(REPO_ROOT / "solutions" / NOTEBOOK, as_version=4)
    solutions = {grade_id(c): c.source for c in source.cells if grade_id(c)}
    cells = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    chosen = {"solved": cells, "half": cells[: len(cells) // 2], "untouched": []}[how]
    for cell in chosen:
        cell.source = strip_markers(solutions[grade_id(cell)])
    return release


@pytest.fixture(scope="module")
def people(klass, chromium):
    """Everyone logged in at once (the hub starts their JupyterLabs side by side)."""
    everyone = {
        user: Person(chromium, klass.url, user, klass.passwords[user])
        for user in [*klass.students, klass.instructor]
    }
    for person in everyone.values():
        person.log_in()
    yield everyone
    for person in everyone.values():
        person.close()


@pytest.fixture(scope="module")
def roles(klass):
    solved, half, untouched = klass.students
    return {"solved": solved, "half": half, "untouched": untouched}


@pytest.fixture(scope="module")
def grades(klass):
    """Filled in by test_instructor_grades_the_class: student -> row of nbgrader export."""
    return {}


def test_instructor_releases_the_assignment(klass):
    klass.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    klass.nbgrader("release_assignment", ASSIGNMENT, "--force")
    released = klass.exchange / "nncourse" / "outbound" / NOTEBOOK
    assert released.is_file() and stat.S_IMODE(released.stat().st_mode) == 0o644


def test_students_fetch_answer_validate_and_submit(klass, people, roles, shots):
    by_role = {role: people[user] for role, user in roles.items()}
    for role, person in by_role.items():
        person.wait_for_lab()
        # Students see the Assignments panel, none of the instructor's.
        assert person.menu_items() == ["Assignment List"], role
        person.open_assignments()
        person.fetch(ASSIGNMENT)
        path = klass.homes[person.user] / NOTEBOOK
        answered = answers(nbformat.read(path, as_version=4), role)
        klass.run_as(person.user, ["tee", path], input=nbformat.writes(answered))
    shown = {role: by_role[role].validate(ASSIGNMENT) for role in ("solved", "untouched")}
    assert "Success! Your notebook passes all the tests." in shown["solved"], shown["solved"]
    assert "The following cell failed" in shown["untouched"], shown["untouched"]

    by_role["solved"].submit(ASSIGNMENT)
    by_role["untouched"].submit(ASSIGNMENT)
    # The due date passes between these submissions and the last one (whole seconds, so
    # a second's wait on each side).
    time.sleep(1.1)
    due = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    klass.nbgrader("db", "assignment", "add", ASSIGNMENT, f"--duedate={due}")
    time.sleep(1.1)
    by_role["half"].submit(ASSIGNMENT)
    for role, person in by_role.items():
        person.screenshot(shots / f"student-{role}-submitted.png")


def test_instructor_grades_the_class(klass, roles, grades):
    # The late-penalty policy of the README, as an instructor would add it.
    config = klass.course_dir / "nbgrader_config.py"
    # Grading below runs the students' code in the course's sandbox, as this instructor
    # (not root: bubblewrap in a user namespace, no cgroup).
    added = "\n# Late submissions (README)\n" + readme_late_penalty()
    klass.run_as(klass.instructor, ["tee", "-a", config], input=added)
    klass.nbgrader("collect", ASSIGNMENT)
    for student in klass.students:
        folder = klass.course_dir / "submitted" / student / ASSIGNMENT
        # collect keeps what the exchange wrote into each submission
        assert (folder / "timestamp.txt").read_text().strip(), student
        assert (folder / "submission_secret.txt").read_text().strip(), student
    graded = klass.nbgrader("autograde", ASSIGNMENT, "--force")
    log = (graded.stdout + graded.stderr)[-4000:]
    klass.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    klass.nbgrader("release_feedback", ASSIGNMENT)
    klass.nbgrader("export")
    rows = csv.DictReader(io.StringIO((klass.course_dir / "grades.csv").read_text()))
    grades.update({row["student_id"]: row for row in rows})

    solved, half, untouched = (grades[roles[r]] for r in ("solved", "half", "untouched"))
    for row in (solved, half, untouched):
        assert row["timestamp"] and row["duedate"], row
    assert float(solved["score"]) == float(solved["max_score"]) > 0, (solved, log)
    assert float(untouched["score"]) == 0, untouched
    # Late by seconds: one started day, 10% of the score (README's policy).
    raw, penalty = float(half["raw_score"]), float(half["late_submission_penalty"])
    assert 0 < raw < float(half["max_score"]), half
    assert penalty == pytest.approx(0.1 * raw) and float(half["score"]) == pytest.approx(
        raw - penalty
    ), half
    assert float(solved["late_submission_penalty"]) == 0
    assert float(untouched["late_submission_penalty"]) == 0


def test_manual_grading_of_written_answers(klass):
    """MANUAL GRADING PLACE: once the notebooks have written-answer cells (nbgrader
    manually graded cells), grade one in the formgrader here (open
    /user/<instructor>/formgrader/manage_submissions/01_neuron, give points and a comment,
    check they reach the student's feedback)."""
    source = nbformat.read(REPO_ROOT / "solutions" / NOTEBOOK, as_version=4)
    written = [
        c
        for c in source.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    if not written:
        pytest.skip("01_neuron has no written-answer cell yet")
    pytest.fail("written-answer cells exist: add the formgrader manual-grading step here")


def test_students_fetch_their_feedback_and_see_their_score(klass, people, roles, grades, shots):
    for role, user in roles.items():
        person = people[user]
        person.refresh()
        person.fetch_feedback(ASSIGNMENT)
        person.screenshot(shots / f"student-{role}-feedback.png")
        (html,) = (klass.homes[user] / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        # The student opens it, as "view feedback" leads them to, served by their server.
        relative = quote(str(html.relative_to(klass.homes[user])))
        person.page.goto(f"{klass.url}/user/{user}/files/{relative}")
        heading = person.page.locator("h4", has_text="Score").first.inner_text()
        person.screenshot(shots / f"student-{role}-feedback-page.png")
        score, max_score = map(float, SCORE.search(heading).groups())
        assert (score, max_score) == (
            pytest.approx(float(grades[user]["score"]), abs=0.01),
            float(grades[user]["max_score"]),
        ), role
    late = (klass.homes[roles["half"]] / ASSIGNMENT / "feedback").glob("*/*.html")
    assert "Late submission penalty" in next(late).read_text()


def test_instructor_sees_the_gradebook_in_the_formgrader(klass, people, shots):
    person = people[klass.instructor]
    person.wait_for_lab()
    assert "Formgrader" in person.menu_items()
    page, formgrader = person.page, f"{klass.url}/user/{klass.instructor}/formgrader"
    # What the formgrader's gradebook shows, from its own API.
    api = page.request.get(f"{formgrader}/api/assignments")
    assert api.ok, (api.status, api.text()[:2000])
    (assignment,) = [a for a in api.json() if a["name"] == ASSIGNMENT]
    assert assignment["num_submissions"] == len(klass.students), assignment
    # The page itself (it fills its tables after loading): saved for a person to look at.
    page.goto(f"{formgrader}/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
    try:
        for student in klass.students:
            page.locator("td", has_text=student).first.wait_for(timeout=60_000)
    finally:
        person.screenshot(shots / "instructor-gradebook.png")


# What a student must never read. Paths relative to the instructor's course folder; the
# other student's answers are checked separately.
INSTRUCTOR_ONLY = [
    "gradebook.db",
    f"solutions/{NOTEBOOK}",
    ".git/config",
    "submitted",
    "autograded",
    "feedback",
    "reports",
]
PRIVATE_FROM_CREATION = [
    "solutions",
    ".git",
    "gradebook.db",
    "submitted",
    "autograded",
    "feedback",
]


def _can_read(klass, user: str, path) -> bool:
    """Whether `user` can read the file (or list the folder) at `path`."""
    probe = (
        "import os, sys; p = sys.argv[1]\n"
        "os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read(1)"
    )
    return klass.run_as(user, ["python3", "-c", probe, path], check=False).returncode == 0


def test_students_cannot_read_what_they_must_not(klass, roles):
    (klass.course_dir / "reports").mkdir(exist_ok=True)  # as nncourse autograde makes it
    course = klass.course_dir
    # Owner-only from creation (nbgrader_config.py's umask), not only behind the course
    # folder's own mode: nothing here may be readable by group or others.
    modes = {name: stat.S_IMODE((course / name).stat().st_mode) for name in PRIVATE_FROM_CREATION}
    assert {n: oct(m) for n, m in modes.items() if m & 0o077} == {}
    leaks = {}
    for user in klass.students:
        other = next(s for s in klass.students if s != user)
        targets = [course / p for p in INSTRUCTOR_ONLY]
        targets += [
            course / "submitted" / other / NOTEBOOK,
            course / "autograded" / other / NOTEBOOK,
            klass.homes[other] / NOTEBOOK,
            klass.homes[other] / ".jupyter" / "nbgrader_config.py",
            klass.exchange / "nncourse" / "inbound",  # others' submissions
            klass.exchange / "nncourse" / "feedback",  # others' feedback
        ]
        readable = [str(t) for t in targets if _can_read(klass, user, t)]
        if readable:
            leaks[user] = readable
        # ... while what is theirs stays readable.
        assert _can_read(klass, user, klass.homes[user] / NOTEBOOK)
        assert _can_read(klass, user, klass.exchange / "nncourse" / "outbound" / NOTEBOOK)
    assert leaks == {}, json.dumps(leaks, indent=2)
