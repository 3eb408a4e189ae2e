"""The ``videostyle`` command (see :mod:`.app`)."""

from . import audio, doodle, keyframes, live, stylit, stylize, tools  # noqa: F401 (the subcommands register themselves on the group)
from .app import as_flags, cli, main
from .options import parse_layers, parse_style_mix

__all__ = ["as_flags", "cli", "main", "parse_layers", "parse_style_mix"]
