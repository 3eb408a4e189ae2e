"""Pure networks (no losses inside) and the model files they are saved in."""

from __future__ import annotations

import os

import torch

from ..errors import VideostyleError
from .arbitrary import ArbitraryConfig, ArbitraryStyleNet, StylePredictor, style_statistics
from .adain import AdaINDecoder, DecoderConfig, adain, mix_statistics
from .files import bundled_models, load_weights, read_model, resolve_model_path, save_model
from .transformer import ConditionalInstanceNorm2d, TransformerConfig, TransformerNet


def load_transformer(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[TransformerNet, dict]:
    """A trained :class:`TransformerNet` (bundled name or path), in eval mode, and its file's info."""
    path = resolve_model_path(name_or_path)
    tensors, info = read_model(path)
    if info.get("kind") != "transformer":
        raise VideostyleError(f"{path} is a {info.get('kind', 'unknown')} model, not a feed-forward transformer network")
    network = TransformerNet(TransformerConfig.from_dict(info["config"]))
    load_weights(network, tensors, path)
    return network.to(device).eval().requires_grad_(False), info


def load_adain_decoder(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[AdaINDecoder, dict]:
    """A trained :class:`AdaINDecoder` (bundled name or path), in eval mode, and its file's info."""
    path = resolve_model_path(name_or_path)
    tensors, info = read_model(path)
    if info.get("kind") != "adain_decoder":
        raise VideostyleError(f"{path} is a {info.get('kind', 'unknown')} model, not an AdaIN decoder")
    decoder = AdaINDecoder(DecoderConfig.from_dict(info["config"]))
    load_weights(decoder, tensors, path)
    return decoder.to(device).eval().requires_grad_(False), info


def load_arbitrary(name_or_path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[ArbitraryStyleNet, dict]:
    """A trained :class:`ArbitraryStyleNet` (bundled name or path), in eval mode, and its file's info."""
    path = resolve_model_path(name_or_path)
    tensors, info = read_model(path)
    if info.get("kind") != "arbitrary_video":
        raise VideostyleError(f"{path} is a {info.get('kind', 'unknown')} model, not an arbitrary-style video network")
    network = ArbitraryStyleNet(ArbitraryConfig.from_dict(info["config"]))
    load_weights(network, tensors, path)
    return network.to(device).eval().requires_grad_(False), info


__all__ = [
    "ArbitraryConfig", "ArbitraryStyleNet", "StylePredictor", "load_arbitrary", "style_statistics",
    "AdaINDecoder", "DecoderConfig", "adain", "load_adain_decoder", "mix_statistics",
    "ConditionalInstanceNorm2d", "TransformerConfig", "TransformerNet", "bundled_models", "load_transformer",
    "load_weights", "read_model", "resolve_model_path", "save_model",
]
