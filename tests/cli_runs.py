"""Running the command line inside a test: its exit status and stderr, and what a clean failure looks like."""

from __future__ import annotations

from videostyle.cli import main


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exited:
        code = exited.code
    return code, capsys.readouterr().err


def assert_clean_failure(code: int, err: str, message: str | None = None) -> None:
    lines = err.strip().splitlines()
    assert code not in (0, None), err
    assert lines and lines[-1].startswith("error: "), err
    assert "unexpected" not in err and "Traceback" not in err, err
    assert len([line for line in lines if line.startswith("error: ")]) == 1, err
    if message is not None:
        assert message in lines[-1], err
