"""User-facing errors.

Anything a user can cause (a missing file, a corrupt image, a bad option) raises
:class:`VideostyleError` with a one-line message; the CLI prints it and exits non-zero,
never with a traceback.
"""


class VideostyleError(Exception):
    """An error caused by the user's input, reported as one line without a traceback."""
