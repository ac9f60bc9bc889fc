"""One person in the browser on the class's JupyterHub: log in with the Unix password and
use nbgrader's Assignments panel as a student does (Nbgrader menu > Assignment List)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

LAB_START_MS = 240_000  # spawning a JupyterLab on a busy 2-core machine
ACTION_MS = 120_000  # fetch, validate (runs the notebook), submit, fetch feedback
MENU_MS, MENU_TRIES = 10_000, 6


class Person:
    def __init__(self, browser, url: str, user: str, password: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(ACTION_MS)
        self.url, self.user, self.password = url, user, password

    def log_in(self) -> None:
        """Submit the hub's login form; the hub then starts this person's JupyterLab."""
        self.page.goto(f"{self.url}/hub/login")
        self.page.fill("#username_input", self.user)
        self.page.fill("#password_input", self.password)
        self.page.click("#login_submit")

    def wait_for_lab(self) -> None:
        self.page.wait_for_url("**/user/*/lab**", timeout=LAB_START_MS)
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(
            timeout=LAB_START_MS
        )

    def _open_menu(self):
        """Open the Nbgrader menu; its entries. A click can land while the page is still
        busy (or close a menu left open), so it is tried again until the menu shows."""
        labels = self.page.locator(".lm-Menu-content .lm-Menu-itemLabel")
        for _ in range(MENU_TRIES):
            self.page.keyboard.press("Escape")
            self.page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            try:
                labels.first.wait_for(timeout=MENU_MS)
                return labels
            except PlaywrightTimeout:
                continue
        raise AssertionError(f"the Nbgrader menu of {self.user} did not open")

    def menu_items(self) -> list[str]:
        """The entries of JupyterLab's Nbgrader menu."""
        items = [x.strip() for x in self._open_menu().all_inner_texts() if x.strip()]
        self.page.keyboard.press("Escape")
        return items

    def open_assignments(self) -> None:
        self._open_menu().filter(has_text="Assignment List").click()
        self.page.locator("#released_assignments_list").wait_for()

    def refresh(self) -> None:
        self.page.locator("#refresh_assignments_list").click()

    def _row(self, section: str, assignment: str):
        return self.page.locator(f"#{section} .list_item", has_text=assignment).first

    def fetch(self, assignment: str) -> None:
        self._row("released_assignments_list", assignment).locator(
            "button", has_text="Fetch"
        ).click()
        self._row("fetched_assignments_list", assignment).wait_for()

    def validate(self, assignment: str) -> str:
        """Click Validate for the assignment's notebook; the text of nbgrader's result
        dialog (which is then closed)."""
        row = self._row("fetched_assignments_list", assignment)
        row.locator(".assignment-notebooks-link").click()
        row.locator("button", has_text="Validate").click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for()
        text = dialog.inner_text()
        dialog.locator("button").last.click()
        dialog.wait_for(state="detached")
        return text

    def submit(self, assignment: str) -> None:
        self._row("fetched_assignments_list", assignment).locator(
            "button", has_text="Submit"
        ).click()
        self._row("submitted_assignments_list", assignment).wait_for()

    def fetch_feedback(self, assignment: str) -> None:
        row = self._row("submitted_assignments_list", assignment)
        row.locator("button", has_text="Fetch Feedback").click()
        row.locator("a", has_text="view feedback").first.wait_for()

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path))

    def close(self) -> None:
        self.context.close()
