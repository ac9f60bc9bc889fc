"""A term's workflow on one server, end to end: JupyterHub with Unix accounts (PAM), the
nbgrader exchange, an instructor and three students in Chromium.

The instructor releases 01_neuron; each student logs in, fetches it in the Assignments
panel, answers (solved / half solved / untouched), validates and submits, the half-solved
one after the due date; the instructor collects and autogrades with the late penalty of the
README, grades the written answers in the formgrader's manual grading page (points and a
comment), generates and releases feedback; each student fetches it and sees their total
(autograded + manual points) and the instructor's comment; the export has every submission
time and the late one penalised. Then each student account tries to read what only the
instructor (or another student) may read. The tests of this module run in order on one
class.
"""

from __future__ import annotations

import csv
import html
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


def html_text(text: str) -> str:
    return html.escape(text, quote=False)


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
    """Filled in by test_instructor_releases_feedback: student -> row of nbgrader export."""
    return {}


@pytest.fixture(scope="module")
def marking(klass):
    """What the grading tests found and gave, for the ones after them: "auto": student ->
    the gradebook's scores after autograding (a dict of NotebookScores' figures), "manual":
    student -> {written grade_id: points given in the formgrader}, "comments": student ->
    {grade_id: the comment}."""
    return {"auto": {}, "manual": {}, "comments": {}}


def written_cells() -> dict[str, float]:
    """The written answers of 01_neuron (manually graded answer cells): grade_id -> points."""
    source = nbformat.read(REPO_ROOT / "solutions" / NOTEBOOK, as_version=4)
    cells = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            cells[meta["grade_id"]] = float(meta["points"])
    return cells


GRADEBOOK_SCORES = """
import json, sys
from nncourse.nbgrader_run import notebook_scores
s = notebook_scores(sys.argv[1], sys.argv[2], sys.argv[2], sys.argv[3])
print(json.dumps({
    "auto_score": s.auto_score, "auto_max_score": s.auto_max_score,
    "manual_score": s.manual_score, "manual_max_score": s.manual_max_score,
    "pending": s.pending, "score": s.score, "max_score": s.max_score,
}))
"""


def gradebook_scores(klass, student: str) -> dict:
    """The gradebook's figures for a student's 01_neuron, read as the instructor."""
    url = f"sqlite:///{klass.course_dir / 'gradebook.db'}"
    args = ["python", "-c", GRADEBOOK_SCORES, url, ASSIGNMENT, student]
    return json.loads(klass.run_as(klass.instructor, args, cwd=klass.course_dir).stdout)


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


def test_instructor_autogrades_the_class(klass, roles, marking):
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
    auto = {role: gradebook_scores(klass, roles[role]) for role in roles}
    marking["auto"].update({roles[role]: figures for role, figures in auto.items()})
    written = written_cells()
    assert written, f"{ASSIGNMENT} has no written answer to grade by hand"
    # The autograder scores the test cells; the written answers wait for the instructor,
    # except a blank one, which nbgrader scores 0 by itself.
    solved, untouched = auto["solved"], auto["untouched"]
    assert solved["auto_score"] == solved["auto_max_score"] > 0, (solved, log)
    assert solved["pending"] == list(written) and solved["manual_score"] == 0, solved
    assert solved["manual_max_score"] == sum(written.values()), solved
    assert untouched["auto_score"] == 0 and untouched["pending"] == [], untouched
    assert 0 < auto["half"]["auto_score"] < auto["half"]["auto_max_score"], auto["half"]


def test_manual_grading_of_written_answers(klass, people, roles, marking, shots):
    """In the formgrader's manual grading page of each submission, the instructor gives
    the written answers points (where answered) and a comment, as a person does: typing
    in the score and comment boxes, which save themselves when left."""
    person = people[klass.instructor]
    person.wait_for_lab()
    # A tab of its own (the instructor's JupyterLab stays open in the first one).
    page, formgrader = person.context.new_page(), f"{klass.url}/user/{klass.instructor}/formgrader"
    try:
        grade_by_hand(page, formgrader, roles, marking, shots)
    finally:
        page.close()


def grade_by_hand(page, formgrader, roles, marking, shots):
    listing = page.request.get(f"{formgrader}/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    assert listing.ok, (listing.status, listing.text()[:2000])
    submission = {s["student"]: s["id"] for s in listing.json()}
    written = written_cells()
    given = {"solved": 1.5, "half": 1.0}  # of each written answer's points, where answered
    for role, student in roles.items():
        pending = marking["auto"][student]["pending"]
        points = {gid: min(given[role], written[gid]) for gid in pending}
        comments = {gid: f"{role} answer to {gid}: {COMMENTS[role]}" for gid in written}
        page.goto(f"{formgrader}/submissions/{submission[student]}")
        # The boxes save only once the page has loaded the grades and comments into them.
        page.wait_for_function(
            "() => window.formgrader && formgrader.grades && formgrader.grades.loaded"
            " && formgrader.comments && formgrader.comments.loaded"
        )
        for gid in written:
            if gid in points:
                page.fill(f"#{gid}", f"{points[gid]:g}")
                page.press(f"#{gid}", "Tab")  # leaving the box saves the score
            page.fill(f"#{gid}-comment", comments[gid])
            page.press(f"#{gid}-comment", "Tab")
        saved = wait_for_saved(page, formgrader, submission[student], points, comments)
        if role == "solved":  # the first written answer, its points and comment in view
            first = next(iter(written))
            page.locator(f"#{first}-comment").scroll_into_view_if_needed()
            page.mouse.wheel(0, -300)
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "instructor-manual-grading.png"))
        assert saved == (points, comments), (role, saved)
        marking["manual"][student], marking["comments"][student] = points, comments


COMMENTS = {
    "solved": "right, and name the derivative that vanishes",
    "half": "the gradient part is right; say what saturation does to the weights",
    "untouched": "no answer: see the saturation section again",
}
SAVE_S = 30


def wait_for_saved(page, formgrader, submission_id, points, comments):
    """What the gradebook holds for the submission once the page's saves are in (or after
    SAVE_S seconds): ({grade_id: manual score}, {grade_id: manual comment})."""
    deadline = time.monotonic() + SAVE_S
    while True:
        query = f"?submission_id={submission_id}"
        grades = page.request.get(f"{formgrader}/api/grades{query}").json()
        notes = page.request.get(f"{formgrader}/api/comments{query}").json()
        got = (
            {g["name"]: g["manual_score"] for g in grades if g["name"] in points},
            {c["name"]: c["manual_comment"] for c in notes if c["name"] in comments},
        )
        if got == (points, comments) or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_instructor_releases_feedback(klass, roles, grades, marking):
    klass.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    klass.nbgrader("release_feedback", ASSIGNMENT)
    klass.nbgrader("export")
    rows = csv.DictReader(io.StringIO((klass.course_dir / "grades.csv").read_text()))
    grades.update({row["student_id"]: row for row in rows})

    solved, half, untouched = (grades[roles[r]] for r in ("solved", "half", "untouched"))
    for row in (solved, half, untouched):
        assert row["timestamp"] and row["duedate"], row
    # The total is the autograded points plus the points given by hand.
    for role, row in (("solved", solved), ("half", half)):
        student = roles[role]
        auto, manual = marking["auto"][student], marking["manual"][student]
        assert float(row["raw_score"]) == auto["auto_score"] + sum(manual.values()), (role, row)
        assert float(row["max_score"]) == auto["max_score"], (role, row)
    assert sum(marking["manual"][roles["solved"]].values()) > 0
    assert float(untouched["score"]) == 0, untouched
    # Late by seconds: one started day, 10% of the score (README's policy).
    raw, penalty = float(half["raw_score"]), float(half["late_submission_penalty"])
    assert 0 < raw < float(half["max_score"]), half
    assert penalty == pytest.approx(0.1 * raw) and float(half["score"]) == pytest.approx(
        raw - penalty
    ), half
    assert float(solved["late_submission_penalty"]) == 0
    assert float(untouched["late_submission_penalty"]) == 0


def test_students_fetch_their_feedback_and_see_their_score(
    klass, people, roles, grades, marking, shots
):
    for role, user in roles.items():
        person = people[user]
        person.refresh()
        person.fetch_feedback(ASSIGNMENT)
        person.screenshot(shots / f"student-{role}-feedback.png")
        (page_path,) = (klass.homes[user] / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        # The student opens it, as "view feedback" leads them to, served by their server.
        relative = quote(str(page_path.relative_to(klass.homes[user])))
        person.page.goto(f"{klass.url}/user/{user}/files/{relative}")
        heading = person.page.locator("h4", has_text="Score").first.inner_text()
        person.screenshot(shots / f"student-{role}-feedback-page.png")
        score, max_score = map(float, SCORE.search(heading).groups())
        assert (score, max_score) == (
            pytest.approx(float(grades[user]["score"]), abs=0.01),
            float(grades[user]["max_score"]),
        ), role
        # autograded + manual points (before the late penalty), and the comments
        auto, manual = marking["auto"][user], marking["manual"][user]
        raw = auto["auto_score"] + sum(manual.values())
        penalty = float(grades[user]["late_submission_penalty"])
        assert score == pytest.approx(raw - penalty, abs=0.01), (role, score, raw, penalty)
        page = person.page.content()
        missing = [c for c in marking["comments"][user].values() if html_text(c) not in page]
        assert not missing, (role, missing)
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
