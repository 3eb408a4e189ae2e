"""The method registry: every front end's list of methods comes from it, and an unknown name is an error
everywhere, never a silent default."""

from __future__ import annotations

from dataclasses import is_dataclass

import pytest

from videostyle.errors import VideostyleError
from videostyle.methods.one_pass import _BUILDERS, build_stylizer
from videostyle.registry import METHODS, method_for_kind, method_record
from videostyle.serve.jobs import METHOD_CHOICES
from videostyle.spec import MethodSpec
from videostyle.training import TRAIN_METHODS, trainer


def test_every_front_end_lists_the_registry():
    import click

    from videostyle.cli.stylize import image_command, video_command

    for command in (image_command, video_command):
        method = next(param for param in command.params if param.name == "method")
        assert isinstance(method.type, click.Choice) and tuple(method.type.choices) == tuple(METHODS)
    assert {name for _, name in METHOD_CHOICES} <= set(METHODS)
    assert [label for label, _ in METHOD_CHOICES] == [METHODS[name].page for _, name in METHOD_CHOICES]


def test_every_network_a_method_takes_has_a_builder_or_carries_its_style():
    for record in METHODS.values():
        if record.model_kind is not None:
            assert record.model_kind == "transformer" or record.model_kind in _BUILDERS, record.name
            assert method_for_kind(record.model_kind) is not None
        if record.one_pass and record.name != "adapt":
            assert record.default_model is not None, record.name


@pytest.mark.parametrize("call", [lambda: method_record("cartoon"), lambda: MethodSpec(method="cartoon").check(), lambda: trainer("cartoon")])
def test_an_unknown_method_is_an_error(call):
    with pytest.raises(VideostyleError, match="unknown"):
        call()


def test_a_method_without_a_network_is_not_built_as_another():
    """Method adapt before adaptation used to fall through to the any-style network."""
    with pytest.raises(VideostyleError, match="has no one-pass network"):
        build_stylizer(MethodSpec(method="adapt", styles=["painting.jpg"]))


def test_a_mask_is_refused_where_the_method_would_ignore_it():
    """Optimisation used to accept a mask and paint without it."""
    with pytest.raises(VideostyleError, match="mask needs two style images") as error:
        MethodSpec(method="optimize", styles=["a.jpg", "b.jpg"], mask="mask.png").check()
    assert error.value.parameter == "mask"


def test_every_training_method_has_a_trainer():
    for method in TRAIN_METHODS:
        options_class, train, fixed = trainer(method)
        assert is_dataclass(options_class) and callable(train) and isinstance(fixed, dict)
