"""``python -m videostyle.cli``: the same as the ``videostyle`` command."""

from . import main

main()
