"""Feedback for students that never shows the hidden tests.

nbgrader 0.9.6 has no switch for this: `nbgrader autograde` puts the hidden tests back
into every test cell (the instructor needs them), and `nbgrader generate_feedback`
renders those cells as they are. `HideHiddenTests` is added to
`GenerateFeedback.preprocessors` in `nbgrader_config.py`: it removes the hidden-test
regions from the cell sources and, in cells that had such a region, cuts every error
traceback down to its last line (``AssertionError: <message>``), because a traceback
quotes the very source lines that failed.
"""

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

NOTE = "(The hidden tests of this cell are not shown; the message above says what went wrong.)"


class HideHiddenTests(ClearHiddenTests):
    """Strip hidden tests and the tracebacks that would quote them."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return super().preprocess_cell(cell, resources, cell_index)
        had_hidden = self._remove_hidden_test_region(cell)
        if had_hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}", NOTE]
        return cell, resources
