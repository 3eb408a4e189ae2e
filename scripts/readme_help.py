"""Rewrite the ``--help`` blocks in README.md from the CLI itself (tests/test_cli.py checks they match).

Usage: python scripts/readme_help.py
"""

import re
from pathlib import Path

from click.testing import CliRunner

from videostyle.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    text = README.read_text()
    for command in re.findall(r"<!-- help (\w+) -->", text):
        output = CliRunner().invoke(cli, [command, "--help"], prog_name="videostyle", terminal_width=100).output
        text = re.sub(
            rf"(<!-- help {command} -->\n```\n).*?(```\n<!-- end help -->)", lambda m, output=output: m.group(1) + output + m.group(2), text, flags=re.S
        )
    README.write_text(text)


if __name__ == "__main__":
    main()
