"""The examples in the docstrings of the modules a newcomer starts from run as written."""

import doctest

import pytest

import videostyle.checks
import videostyle.spec


@pytest.mark.parametrize("module", [videostyle.checks, videostyle.spec])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
