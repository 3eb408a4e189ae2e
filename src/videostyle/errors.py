"""User-facing errors.

Anything a user can cause (a missing file, a corrupt image, a bad option) raises
:class:`VideostyleError` with a one-line message; the CLI prints it and exits non-zero,
never with a traceback. A library error about one parameter names it as the Python API
spells it (``strength``) and sets ``parameter``; the CLI shows the flag instead (``--strength``).
"""


class VideostyleError(Exception):
    """An error caused by the user's input, reported as one line without a traceback.

    ``parameter``: the API parameter the message names, if any (the CLI maps it to its flag).
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


def caused_by_interrupt(error: BaseException | None) -> bool:
    """Whether ``error`` is a KeyboardInterrupt or was raised while handling one (a signal during an import can
    arrive wrapped: a RuntimeError from ``__set_name__``, ...)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
