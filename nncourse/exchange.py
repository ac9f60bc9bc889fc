"""nbgrader's exchange with one change: `nbgrader collect` never follows a link.

A student owns their folder in the exchange's inbound/ and can put links in it (or make it
one) after submitting. nbgrader's collect copies with `shutil.copytree`, which follows
links as the instructor: a notebook linked to the instructor's solved one would be
collected, and graded, as the student's. `Collect` first copies the submission into a
private folder without following anything (the folder itself is opened once, with
O_NOFOLLOW, so it cannot be swapped for a link meanwhile), drops every link there with a
warning, and then lets nbgrader copy that as usual (its include/ignore lists, sizes,
permissions). nbgrader_config.py selects it with ``c.ExchangeFactory.collect``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect


class Collect(ExchangeCollect):
    def do_copy(self, src, dest, log=None):
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY)
        except OSError as err:
            self.log.error("Not collected: %s is a link or not a folder (%s)", src, err)
            return
        try:
            with tempfile.TemporaryDirectory(prefix="nncourse-collect-") as tmp:
                staged = Path(tmp) / "submission"
                # /proc/self/fd/N is the folder opened above, whatever `src` names now.
                opened = f"/proc/self/fd/{fd}"
                shutil.copytree(opened if os.path.isdir(opened) else src, staged, symlinks=True)
                for link in drop_links(staged):
                    self.log.warning("Not collected from %s: %s is a link", src, link)
                super().do_copy(str(staged), dest, log)
        finally:
            os.close(fd)


def drop_links(folder: Path) -> list[str]:
    """Remove every link under `folder` (not following any); their relative paths."""
    dropped = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                path.unlink()
                dropped.append(str(path.relative_to(folder)))
    return sorted(dropped)
