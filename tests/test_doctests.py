"""The examples in the docstrings of the modules a newcomer starts from run as written."""

import doctest

import pytest

import videostyle.checks
import videostyle.features.vgg
import videostyle.methods.feedforward
import videostyle.methods.gatys
import videostyle.methods.optimize
import videostyle.methods.ruder
import videostyle.models.transformer
import videostyle.spec
import videostyle.tiles


@pytest.mark.parametrize(
    "module",
    [
        videostyle.checks,
        videostyle.spec,
        videostyle.methods.gatys,
        videostyle.methods.ruder,
        videostyle.methods.optimize,
        videostyle.methods.feedforward,
        videostyle.tiles,
        videostyle.features.vgg,
        videostyle.models.transformer,
    ],
)
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
