"""Pure networks (no losses inside) and the model files they are saved in."""

from __future__ import annotations

import os

import torch

from ..errors import VideostyleError
from .arbitrary import ArbitraryConfig, ArbitraryStyleNet, StylePredictor, style_statistics
from .adain import AdaINDecoder, DecoderConfig, adain, mix_statistics
from .files import bundled_models, load_weights, read_model, resolve_model_path, save_model
from .transformer import ConditionalInstanceNorm2d, TransformerConfig, TransformerNet


#: ``kind`` in a model file's metadata -> (what it is called in errors, how to build it from its config).
KINDS = {
    "transformer": ("a feed-forward transformer network", lambda config: TransformerNet(TransformerConfig.from_dict(config))),
    "adain_decoder": ("an AdaIN decoder", lambda config: AdaINDecoder(DecoderConfig.from_dict(config))),
    "arbitrary_video": ("an arbitrary-style video network", lambda config: ArbitraryStyleNet(ArbitraryConfig.from_dict(config))),
}


def load_model(name_or_path: str | os.PathLike, kind: str, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A trained network of ``kind`` (bundled name or path), frozen in eval mode, and its file's info."""
    path = resolve_model_path(name_or_path)
    tensors, info = read_model(path)
    what, build = KINDS[kind]
    if info.get("kind") != kind:
        raise VideostyleError(f"{path} is a {info.get('kind', 'unknown')} model, not {what}")
    network = build(info["config"])
    load_weights(network, tensors, path)
    return network.to(device).eval().requires_grad_(False), info


def load_transformer(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[TransformerNet, dict]:
    return load_model(name_or_path, "transformer", device)


def load_adain_decoder(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[AdaINDecoder, dict]:
    return load_model(name_or_path, "adain_decoder", device)


def load_arbitrary(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[ArbitraryStyleNet, dict]:
    return load_model(name_or_path, "arbitrary_video", device)


__all__ = [
    "ArbitraryConfig", "ArbitraryStyleNet", "StylePredictor", "load_arbitrary", "style_statistics",
    "AdaINDecoder", "DecoderConfig", "adain", "load_adain_decoder", "mix_statistics",
    "ConditionalInstanceNorm2d", "TransformerConfig", "TransformerNet", "bundled_models", "load_transformer",
    "load_model", "load_weights", "read_model", "resolve_model_path", "save_model",
]
