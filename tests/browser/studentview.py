"""Drive JupyterLab as a student does: open a notebook, restart and run all, move widgets,
press nbgrader's Validate. Used by the browser tests (tests/browser/)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

RUN_TIMEOUT_MS = 240_000  # one notebook's run, in grading mode on 2 busy cores
WIDGET_TIMEOUT_MS = 60_000  # one widget callback (06 redraws from cached predictions)
TRACEBACK = re.compile(r"(\w+)\s+Traceback \(most recent call last\)")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# How an unsolved exercise shows: its NotImplementedError, or the test cell's message.
NOT_WRITTEN = re.compile(r"NotImplementedError|is not written yet")
STDOUT = '[data-mime-type="application/vnd.jupyter.stdout"]'
EXPLORER_TEXT = ".jp-OutputArea-output .widget-html pre"  # what an explorer's function printed

# In the page: the state of the run (every code cell's prompt) and of the kernel.
JS_RUN_STATE = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, status: status ? status.getAttribute('data-status') : null};
}"""

# In the page: the class name of every traceback shown anywhere in the notebook's outputs
# (cell outputs and widget Output areas alike).
JS_TRACEBACKS = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
  .map(o => o.innerText).filter(t => /Traceback \\(most recent call last\\)/.test(t))"""


class Lab:
    def __init__(self, page, server: dict):
        self.page = page
        self.server = server
        self.path: str | None = None

    # -- opening and running -------------------------------------------------------------
    def open(self, rel_path: str) -> None:
        """Open a notebook (path relative to the server root) in a fresh JupyterLab tab."""
        self.path = rel_path
        url = f"{self.server['base']}/lab/tree/{rel_path}?token={self.server['token']}&reset"
        self.page.goto(url)
        self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        # The kernel has started, and the page is connected to it, before we restart it:
        # a restart in the first second of a kernel's life can leave the page's connection
        # unusable (the server then misreads its messages and the kernel stays "starting").
        self.page.wait_for_function(
            "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
            " return s && s.getAttribute('data-status') === 'idle'; }",
            timeout=60_000,
        )
        deadline = time.monotonic() + 60
        while not any(
            k["execution_state"] == "idle" and k["connections"] >= 1 for k in self.kernels()
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"no kernel connected for {rel_path}: {self.kernels()}")
            time.sleep(0.25)

    def code_sources(self) -> list[str]:
        """The source of every code cell of the open notebook, as stored on disk."""
        nb = json.loads((Path(self.server["root"]) / self.path).read_text())
        return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]

    def kernels(self) -> list[dict]:
        url = f"{self.server['base']}/api/kernels?token={self.server['token']}"
        return self.page.request.get(url).json()

    def menu(self, top: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
        self.page.locator(
            ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")
        ).click()

    def restart_and_run_all(self) -> None:
        self.menu("Kernel", "Restart Kernel and Run All Cells…")
        self.page.locator(".jp-Dialog button.jp-mod-accept").click()
        # The restarted kernel runs the first cell (a number in its prompt) within a minute.
        self.page.wait_for_function(
            f"() => ({JS_RUN_STATE})().prompts.some(p => /\\[\\d+\\]/.test(p))",
            timeout=60_000,
            polling=250,
        )
        self.wait_run_finished()

    def wait_run_finished(self, timeout_ms: int = RUN_TIMEOUT_MS) -> dict:
        """Until no cell is queued or running, some cell has run and the kernel is idle."""
        handle = self.page.wait_for_function(
            f"""() => {{
              const s = ({JS_RUN_STATE})();
              const ran = s.prompts.some(p => /\\[\\d+\\]/.test(p));
              const queued = s.prompts.some(p => p.includes('*'));
              return ran && !queued && s.status === 'idle' ? s : null;
            }}""",
            timeout=timeout_ms,
            polling=250,
        )
        return handle.json_value()

    def save(self) -> dict:
        """Save (Ctrl+S) and return the notebook as stored on disk."""
        file = Path(self.server["root"]) / self.path
        before = file.stat().st_mtime_ns
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while file.stat().st_mtime_ns == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.path} was not saved")
            time.sleep(0.2)
        time.sleep(0.3)  # the write may still be in progress
        return json.loads(file.read_text())

    def shutdown_kernels(self) -> None:
        """Stop every kernel of the server (each test leaves none running)."""
        api = self.page.request
        url = f"{self.server['base']}/api/kernels?token={self.server['token']}"
        for kernel in api.get(url).json():
            api.delete(
                f"{self.server['base']}/api/kernels/{kernel['id']}?token={self.server['token']}"
            )

    # -- what the student sees -----------------------------------------------------------
    def tracebacks(self) -> list[str]:
        return self.page.evaluate(JS_TRACEBACKS)

    def widget_outputs(self):
        """The cells' own outputs that hold a rendered widget."""
        return self.page.locator(
            ".jp-Notebook .jp-Cell-outputArea > .jp-OutputArea-child"
            " > .jp-OutputArea-output:has(> .jupyter-widgets)"
        )

    def screenshot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def validate(self) -> tuple[bool, str]:
        """Press nbgrader's Validate; return (success, the dialog's text)."""
        self.page.locator(".validate-button").click()
        dialog = self.page.locator(".jp-Dialog:has(#validation-message)")
        dialog.wait_for(timeout=RUN_TIMEOUT_MS)
        message = dialog.locator("#validation-message")
        ok = "validation-success" in (message.get_attribute("class") or "")
        text = message.inner_text()
        dialog.locator("button.jp-mod-accept").click()
        return ok, text


# -- the checks ---------------------------------------------------------------------------
def error_outputs(nb: dict) -> list[tuple[int, str, str]]:
    """(cell index, ename, evalue) of every error output stored in a saved notebook."""
    return [
        (i, out.get("ename", ""), out.get("evalue", ""))
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if out["output_type"] == "error"
    ]


def check_widgets_render(lab: Lab, nb: dict) -> int:
    """Every cell that builds widgets (`widgets.` in its source) and displayed one shows
    it drawn as a widget: no 'Error displaying widget', no text fallback such as
    `interactive(children=...)`. (Progress bars that tqdm closes leave an empty output, so
    they are not counted.) Returns how many such cells."""
    shown = lab.page.locator(".jp-Notebook").first.inner_text()
    assert "Error displaying widget" not in shown
    assert not re.search(r"\b(interactive|HBox|VBox|Output)\(children=", shown), shown
    widget_cells = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code"
        and "widgets." in "".join(c["source"])
        and any(WIDGET_MIME in out.get("data", {}) for out in c.get("outputs", []))
    ]
    for i in widget_cells:
        cell = lab.page.locator(".jp-Notebook .jp-Cell").nth(i)
        drawn = cell.locator(".jp-Cell-outputArea .jupyter-widgets")
        assert drawn.count() > 0, f"cell {i}: its widget is not drawn"
    assert lab.widget_outputs().count() >= len(widget_cells)
    return len(widget_cells)


# Controls a student moves: sliders, dropdowns, buttons, checkboxes (Play buttons excluded:
# their linked slider is moved instead).
CONTROLS = (
    ".jp-Notebook .widget-slider:not(.widget-play .widget-slider), "
    ".jp-Notebook .widget-dropdown, "
    ".jp-Notebook button.widget-button:not(.widget-play button), "
    ".jp-Notebook .widget-checkbox"
)

# An explorer (nnlib.widgets) keeps its <img> and gives it a new src at each redraw, and
# replaces the <pre> of its text: a stale mark remembers the src it was made for.
JS_MARK_STALE = """cell => { for (const el of cell.querySelectorAll(
    '.jp-OutputArea-output pre, .jp-OutputArea-output img')) el.dataset.stale = el.src || '1'; }"""

# In the page: after a move, either a traceback shows in the cell, or a fresh marker line
# (stdout, or an explorer's text) and a fresh image have been drawn.
JS_REDRAWN = f"""cell => {{
  const outs = [...cell.querySelectorAll('.jp-OutputArea-output')];
  const tb = outs.map(o => o.innerText).find(t => /Traceback \\(most recent call last\\)/.test(t));
  if (tb) return {{error: tb}};
  const fresh = sel => [...cell.querySelectorAll(sel)].filter(
      e => !e.dataset.stale || (e.src && e.src !== e.dataset.stale));
  const markers = fresh('.jp-OutputArea-output{STDOUT} pre, {EXPLORER_TEXT}')
      .map(e => e.innerText.trim()).filter(t => t);
  const images = fresh('.jp-OutputArea-output img');
  return markers.length && images.length ? {{marker: markers[markers.length - 1]}} : null;
}}"""


def move(control) -> str:
    """Change one control as a student would; returns what was done."""
    cls = control.get_attribute("class") or ""
    if "widget-dropdown" in cls:
        select = control.locator("select")
        options = select.locator("option")
        current = select.input_value()
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        other = next(v for v in values if v != current)
        select.select_option(value=other)
        return f"dropdown -> {options.nth(values.index(other)).inner_text()}"
    if "widget-slider" in cls:
        handle = control.locator(".noUi-handle").first
        before = control.locator(".widget-readout").inner_text()
        handle.focus()
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.press("ArrowLeft" if at_max else "ArrowRight")
        return f"slider {before} -> {control.locator('.widget-readout').inner_text()}"
    if "widget-checkbox" in cls:
        control.locator("input").click()
        return "checkbox toggled"
    control.click()
    return f"button {control.inner_text()!r} clicked"


def check_widgets_respond(lab: Lab) -> list[str]:
    """Move every control; each move must redraw its cell's output: a fresh marker line
    printed by the callback and a fresh plot, and no traceback. Returns the log."""
    page = lab.page
    controls = page.locator(CONTROLS)
    log = []
    for k in range(controls.count()):
        control = controls.nth(k)
        cell = control.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
        cell_handle = cell.element_handle()
        cell.scroll_into_view_if_needed()
        page.evaluate(JS_MARK_STALE, cell_handle)
        what = move(control)
        result = page.wait_for_function(
            JS_REDRAWN, arg=cell_handle, timeout=WIDGET_TIMEOUT_MS, polling=100
        ).json_value()
        assert "error" not in result, f"moving {what} raised:\n{result['error']}"
        log.append(f"{what}: {result['marker']}")
    return log


def check_solved(lab: Lab, rel_path: str, screenshot_dir: Path) -> list[str]:
    """The solved notebook as a student runs it: no error anywhere, every widget drawn, and
    every control redraws its plot. Raises AssertionError otherwise."""
    lab.open(rel_path)
    lab.restart_and_run_all()
    tracebacks = lab.tracebacks()
    assert not tracebacks, f"{rel_path}: error output:\n" + "\n".join(tracebacks)
    nb = lab.save()
    errors = error_outputs(nb)
    assert not errors, f"{rel_path}: errors {errors}"
    unrun = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and c.get("execution_count") is None
    ]
    assert not unrun, f"{rel_path}: cells not run: {unrun}"
    n_widgets = check_widgets_render(lab, nb)
    log = check_widgets_respond(lab)
    tracebacks = lab.tracebacks()
    assert not tracebacks, f"{rel_path}: error output after moving widgets:\n" + "\n".join(
        tracebacks
    )
    _screenshot_last_widget(lab, screenshot_dir, rel_path)
    return [f"{n_widgets} widget(s)", *log]


def check_release(lab: Lab, rel_path: str, screenshot_dir: Path) -> list[tuple[int, str]]:
    """The student's notebook before any exercise is done.

    Run All (which stops at the first error): every cell before the first exercise runs
    cleanly, and the first error is an exercise's NotImplementedError (or the test cell's
    "not written yet" report of it). Then every cell is run once (a copy whose code cells
    carry JupyterLab's `raises-exception` tag, so Run All goes on past errors): each error
    is an unwritten exercise, or a NameError for a result an unwritten exercise did not
    produce; nothing else. Returns (cell index, exception name) of the second run's errors.
    """
    lab.open(rel_path)
    lab.restart_and_run_all()
    nb = lab.save()
    first_answer = next(
        i
        for i, c in enumerate(nb["cells"])
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    )
    errors = error_outputs(nb)
    assert errors, f"{rel_path}: no exercise raised"
    i, ename, evalue = errors[0]
    assert i > first_answer, f"{rel_path}: error before the first exercise: {errors[0]}"
    assert _is_not_implemented(ename, evalue), f"{rel_path}: first error {errors[0]}"
    before = [
        k
        for k, c in enumerate(nb["cells"][:i])
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
        if c.get("execution_count") is None
    ]
    assert not before, f"{rel_path}: cells before the first error did not run: {before}"
    shown = [t for t in lab.tracebacks() if not NOT_WRITTEN.search(t)]
    assert not shown, f"{rel_path}: other tracebacks:\n" + "\n".join(shown)
    lab.page.locator(".jp-Notebook .jp-Cell").nth(i).scroll_into_view_if_needed()
    lab.screenshot(screenshot_dir, rel_path.replace("/", "__").removesuffix(".ipynb"))
    lab.shutdown_kernels()

    every = _run_every_cell_copy(Path(lab.server["root"]), rel_path)
    lab.open(every)
    lab.restart_and_run_all()
    nb = lab.save()
    errors = error_outputs(nb)
    wrong = [e for e in errors if not (_is_not_implemented(e[1], e[2]) or e[1] == "NameError")]
    assert not wrong, f"{rel_path}: errors other than unwritten exercises: {wrong}"
    unrun = [
        k
        for k, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
        if c.get("execution_count") is None
    ]
    assert not unrun, f"{rel_path}: cells not run: {unrun}"
    return [(k, ename) for k, ename, _ in errors]


def _run_every_cell_copy(root: Path, rel_path: str) -> str:
    """A copy of the notebook, beside it, whose code cells all carry `raises-exception`."""
    src = root / rel_path
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append("raises-exception")
    dst = src.with_name(f"{src.stem}_every_cell.ipynb")
    dst.write_text(json.dumps(nb))
    return str(dst.relative_to(root))


def _is_not_implemented(ename: str, evalue: str) -> bool:
    """The exercise's own NotImplementedError, or the test cells' report of it (nnlib's
    grading helpers turn it into an AssertionError that names the unwritten function)."""
    return ename == "NotImplementedError" or (
        ename == "AssertionError" and NOT_WRITTEN.search(evalue) is not None
    )


def _screenshot_last_widget(lab: Lab, folder: Path, rel_path: str) -> None:
    """The cell of the last control a student moves (controls and plot), else the page."""
    name = rel_path.replace("/", "__").removesuffix(".ipynb")
    controls = lab.page.locator(CONTROLS)
    if not controls.count():
        lab.screenshot(folder, name)
        return
    cell = controls.last.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
    cell.locator(".jp-Cell-outputArea").screenshot(path=str(folder / f"{name}.png"))
