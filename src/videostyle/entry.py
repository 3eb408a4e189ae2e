"""The ``videostyle`` command's first code. PyTorch takes a second or more to import; a Ctrl-C (or SIGTERM)
in that time ends as it does anywhere later: "interrupted" and exit status 130, never a traceback. This module
imports nothing heavy itself (``videostyle/__init__`` imports its names lazily) and imports the command line
inside the guard."""

from __future__ import annotations

import os
import signal
import sys

from .errors import caused_by_interrupt

EXIT_INTERRUPTED = 130


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        from .cli.app import main as run
    except BaseException as error:
        if not caused_by_interrupt(error):
            raise
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    run()
