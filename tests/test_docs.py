"""The documentation site builds with every warning an error: broken links between pages, a missing page in
the navigation, an API page naming something that is gone, the command line reference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_LINES = 300


def test_the_site_builds_strict(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    reference = (tmp_path / "site" / "cli" / "index.html").read_text()
    assert 'id="videostyle-video"' in reference and "--temporal-weight" in reference  # generated from the CLI itself
    assert "MethodSpec" in (tmp_path / "site" / "api" / "index.html").read_text()
    newest_entry = (ROOT / "CHANGELOG.md").read_text().split("- **", 1)[1].split("**", 1)[0]
    assert newest_entry in (tmp_path / "site" / "changelog" / "index.html").read_text()  # the one changelog, included


def test_the_readme_is_a_short_guide():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_LINES
