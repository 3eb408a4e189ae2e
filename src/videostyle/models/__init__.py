"""Pure networks (no losses inside) and the model files they are saved in."""

from __future__ import annotations

import os
from typing import Any, cast

import torch

from ..errors import VideostyleError
from .adain import AdaINDecoder, DecoderConfig, adain, mix_statistics
from .arbitrary import ArbitraryConfig, ArbitraryStyleNet, StylePredictor, style_statistics
from .files import bundled_models, load_weights, read_model, read_model_info, resolve_model_path, save_model
from .transformer import ConditionalInstanceNorm2d, TransformerConfig, TransformerNet

#: ``kind`` in a model file's metadata -> (what it is called in errors, its config class, its network class).
KINDS: dict[str, tuple[str, Any, type[torch.nn.Module]]] = {
    "transformer": ("a feed-forward transformer network", TransformerConfig, TransformerNet),
    "adain_decoder": ("an AdaIN decoder", DecoderConfig, AdaINDecoder),
    "arbitrary_video": ("an arbitrary-style video network", ArbitraryConfig, ArbitraryStyleNet),
    "swap_decoder": ("a style-swap inverse network (relu3_1 to image)", DecoderConfig, AdaINDecoder),
}


def describe_kind(kind: str | None) -> str:
    """``"an arbitrary-style video network"`` for ``"arbitrary_video"``, and so on: a file's kind in words."""
    return KINDS[kind][0] if kind in KINDS else f"a {kind} file"


def read_config(info: dict, kind: str, path: str | os.PathLike):
    """The config object of a model file's ``info``: fields the file lacks take their defaults.

    Files written before a field existed (``adaptive`` in the early bundled models) so read the
    same as new ones; a missing or malformed config is a one-line error.
    """
    _, config_class, _ = KINDS[kind]
    data = info.get("config")
    if not isinstance(data, dict):
        raise VideostyleError(f"model {path} is malformed: its metadata has no config")
    try:
        return config_class.from_dict(data)
    except (TypeError, ValueError) as error:
        raise VideostyleError(f"model {path} is malformed: bad config ({error})") from None


def load_model(name_or_path: str | os.PathLike, kind: str, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A trained network of ``kind`` (bundled name or path), frozen in eval mode, and its file's info.

    ``info["config"]`` is the complete config (defaults filled in), as ``config.to_dict()`` writes it.
    """
    path = resolve_model_path(name_or_path)
    tensors, info = read_model(path)
    what, _, network_class = KINDS[kind]
    if info.get("kind") != kind:
        raise VideostyleError(f"model {name_or_path} is {describe_kind(info.get('kind'))}, not {what}")
    config = read_config(info, kind, path)
    info = {**info, "config": config.to_dict()}
    try:
        network = network_class(config)
    except (TypeError, ValueError, RuntimeError, KeyError, ZeroDivisionError) as error:
        raise VideostyleError(f"model {path} is malformed: its config cannot build a network ({str(error).splitlines()[0]})") from None
    load_weights(network, tensors, path)
    return network.to(device).eval().requires_grad_(False), info


def load_transformer(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[TransformerNet, dict]:
    network, info = load_model(name_or_path, "transformer", device)
    return cast(TransformerNet, network), info


def load_adain_decoder(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[AdaINDecoder, dict]:
    network, info = load_model(name_or_path, "adain_decoder", device)
    return cast(AdaINDecoder, network), info


def load_arbitrary(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[ArbitraryStyleNet, dict]:
    network, info = load_model(name_or_path, "arbitrary_video", device)
    return cast(ArbitraryStyleNet, network), info


__all__ = [
    "AdaINDecoder",
    "ArbitraryConfig",
    "ArbitraryStyleNet",
    "ConditionalInstanceNorm2d",
    "DecoderConfig",
    "StylePredictor",
    "TransformerConfig",
    "TransformerNet",
    "adain",
    "bundled_models",
    "describe_kind",
    "load_adain_decoder",
    "load_arbitrary",
    "load_model",
    "load_transformer",
    "load_weights",
    "mix_statistics",
    "read_config",
    "read_model",
    "read_model_info",
    "resolve_model_path",
    "save_model",
    "style_statistics",
]
