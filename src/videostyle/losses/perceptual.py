"""The perceptual criterion shared by optimisation (Gatys, Ruder) and training (Johnson).

One encoder pass per call serves every content and style layer. The criterion returns a
dict of *weighted* named terms (``content.relu4_2``, ``style.relu1_1``, ..., ``tv``) so that
every term is logged for free; the objective is ``total(terms)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import VideostyleError
from ..features.vgg import VGGEncoder, layer_stride
from . import functional as LF

DEFAULT_CONTENT_LAYERS: dict[str, float] = {"relu4_2": 1.0}
DEFAULT_STYLE_LAYERS: dict[str, float] = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0}


#: Calls of the criterion between two matchings of the MRF loss's nearest patches.
MRF_REMATCH = 10


def _positions(features: torch.Tensor, size: int = 3) -> int:
    return (features.shape[-2] - size + 1) * (features.shape[-1] - size + 1)


def total(terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Sum of the (already weighted) named loss terms."""
    return cast(torch.Tensor, sum(terms.values()))


class PerceptualLoss(nn.Module):
    """Weighted content + style + total-variation loss on a frozen encoder's named layers.

    Args:
        encoder: ``encoder(x, layers) -> {name: features}`` (see :class:`~videostyle.features.VGGEncoder`).
        content_layers / style_layers: ``{layer: weight}``; layer weights multiply the
            global ``content_weight`` / ``style_weight``.
        tv_weight: weight of the squared total variation of the image.
        style_statistic: ``"gram"`` (Gatys et al. 2015; Johnson et al. 2016) or ``"mean_std"``
            (channel means and standard deviations, Huang and Belongie 2017).
        mrf_layers / mrf_weight: Li and Wand 2016's patch-matching style loss (``mrf.<layer>`` terms)
            on these layers, against the 3x3 patches of every style image pooled; off when the
            weight is 0. A ``style_weight`` of 0 leaves the Gram terms out (MRF alone). The nearest
            patches are matched again every ``MRF_REMATCH`` calls with gradient, so that within those
            the objective is smooth (L-BFGS's line search stalls on an objective that jumps at every call).
        swap_layer: style swap (Chen and Schmidt 2016) decoded by optimisation: the content target at this
            layer is the content's features with every 3x3 patch swapped for its best-matching style
            patch (:func:`~videostyle.features.patches.style_swap`), and it is the only content layer.

    Call :meth:`set_style` once (or set :attr:`style_targets` to per-sample targets from
    :meth:`style_targets_of`), then ``criterion(image, content_targets)`` with targets from
    :meth:`content_targets`.
    """

    def __init__(
        self,
        encoder: VGGEncoder,
        content_layers: Mapping[str, float] | None = None,
        style_layers: Mapping[str, float] | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
        style_statistic: str = "gram",
        mrf_layers: Mapping[str, float] | None = None,
        mrf_weight: float = 0.0,
        swap_layer: str | None = None,
    ):
        super().__init__()
        self.encoder = encoder
        self.content_layers = dict(DEFAULT_CONTENT_LAYERS if content_layers is None else content_layers)
        self.swap_layer = swap_layer
        if swap_layer is not None:
            self.content_layers = {swap_layer: 1.0}
        self.style_layers = dict(DEFAULT_STYLE_LAYERS if style_layers is None else style_layers)
        if not self.style_layers:
            raise VideostyleError("at least one style layer is needed")
        self.mrf_layers = dict(mrf_layers or {}) if mrf_weight else {}
        self.mrf_weight = mrf_weight
        encoder.check_layers(list(self.content_layers) + list(self.style_layers) + list(self.mrf_layers))
        if style_statistic not in ("gram", "mean_std"):
            raise VideostyleError(f"unknown style statistic {style_statistic!r}; choose gram or mean_std")
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        self.style_statistic = style_statistic
        self.style_targets: Mapping[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]] = {}
        self.style_patches: dict[str, torch.Tensor] = {}
        self.swap_patches: torch.Tensor | None = None
        self.swap_pixels: torch.Tensor | None = None  # the style pixels under each swap patch
        self.swap_matches: list[torch.Tensor] = []  # per sample of the last content_targets: the chosen patch per position
        self._swap_picture_size: tuple[int, int] = (0, 0)
        #: Neural doodles (Champandard 2016): with :attr:`semantic_maps` set (``(style map, target map)``, one-hot
        #: ``1 x K x H x W`` each), the maps resized to each MRF layer and multiplied by ``map_weight`` times the
        #: style's mean activation there are concatenated to the features before the patches are matched, so each
        #: region takes patches from its own region of the style. Set both before :meth:`set_style`.
        self.map_weight = 10.0
        self._map_scale: dict[str, float] = {}
        self._matches: dict[str, torch.Tensor] = {}
        self._calls_since_match = 0
        self._semantic_maps: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def semantic_maps(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(style map, target map)``, one-hot ``1 x K x H x W`` each, or None (see the class docstring)."""
        return self._semantic_maps

    @semantic_maps.setter
    def semantic_maps(self, maps: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        self._semantic_maps = maps
        self._matches = {}  # matched against the old target map: match again at the next call (a doodle video's next frame)

    @torch.no_grad()
    def style_targets_of(self, styles: torch.Tensor) -> dict:
        """Per-sample style targets of a batch of style images ``B x 3 x H x W`` (one style per sample)."""
        return self._style_statistics(self.encoder(styles, list(self.style_layers)))

    def _style_statistics(self, features: Mapping[str, torch.Tensor]) -> dict:
        """The style layers' per-sample statistics (Gram matrices, or channel means and deviations) of ``features``."""
        if self.style_statistic == "gram":
            return {name: LF.gram_matrix(features[name]) for name in self.style_layers}
        return {name: LF.feature_statistics(features[name]) for name in self.style_layers}

    @torch.no_grad()
    def targets_of(self, pictures: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict]:
        """``(content targets, per-sample style targets)`` of the same pictures ``B x 3 x H x W`` from one pass of the
        encoder: :meth:`content_targets` and :meth:`style_targets_of` at once, where each sample is its own style
        (few-shot patch training, whose target patches are both)."""
        features = self.encoder(pictures, list(dict.fromkeys([*self.content_layers, *self.style_layers])))
        return self._content_targets_from(features, pictures), self._style_statistics(features)

    @property
    def layers(self) -> list[str]:
        """The encoder layers a call reads: the style layers only while the style term has weight (the encoder
        stops at the deepest layer asked for, so style swap alone runs VGG to relu3_1, not relu5_1)."""
        return list(dict.fromkeys([*self.content_layers, *(self.style_layers if self.style_weight else ()), *self.mrf_layers]))

    @torch.no_grad()
    def style_grams(self, styles: Sequence[torch.Tensor], blend: Sequence[float] | None = None) -> dict[str, torch.Tensor]:
        """Blended target Grams ``{layer: 1 x C x C}`` of several style images (weights normalised to sum 1)."""
        blend = [1.0] * len(styles) if blend is None else list(blend)
        if len(blend) != len(styles):
            raise VideostyleError(f"{len(styles)} style images but {len(blend)} style blend weights")
        if any(weight < 0 for weight in blend) or sum(blend) <= 0:
            raise VideostyleError("style blend weights must be non-negative and not all zero")
        if self.style_statistic != "gram":
            raise VideostyleError("blended style targets are Gram matrices; use style_targets_of with mean_std")
        grams: dict[str, torch.Tensor] = {}
        for style, weight in zip(styles, blend):
            for name, gram in self.style_targets_of(style).items():
                gram = gram.mean(0, keepdim=True) * (weight / sum(blend))
                grams[name] = grams[name] + gram if name in grams else gram
        return grams

    def set_style(self, styles: Sequence[torch.Tensor], blend: Sequence[float] | None = None) -> None:
        """Compute and keep the target Grams (once per style, reused for every image or frame), and the
        style patches of the MRF layers (every style's, pooled: the MRF loss has no blend)."""
        from ..features.patches import extract_patches, pooled_patches

        self.style_targets = self.style_grams(styles, blend)
        if self.swap_layer is not None:
            from ..features.patches import pixel_patches

            self.swap_patches = pooled_patches(self.encoder, styles, self.swap_layer)
            stride = layer_stride(self.swap_layer)
            self.swap_pixels = torch.cat([pixel_patches(style[:1], stride) for style in styles])
        if self.mrf_layers:
            if self.semantic_maps is not None and len(styles) != 1:
                raise VideostyleError(f"a style map belongs to one style image, got {len(styles)} styles", parameter="styles")
            with torch.no_grad():
                features = [self.encoder(style, list(self.mrf_layers)) for style in styles]
            self._map_scale = {name: self.map_weight * float(features[0][name].mean()) for name in self.mrf_layers}
            self.style_patches = {name: torch.cat([extract_patches(self._with_map(each[name][:1], 0, name)) for each in features]) for name in self.mrf_layers}
            self._matches = {}

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """Content-layer features of the content image(s), without gradient."""
        if not self.content_layers:
            return {}
        return self._content_targets_from(self.encoder(content, list(self.content_layers)), content)

    def _content_targets_from(self, features: Mapping[str, torch.Tensor], content: torch.Tensor) -> dict[str, torch.Tensor]:
        """The content layers' targets from the content's ``features`` (swapped for style patches with a swap layer)."""
        targets = {name: features[name].detach() for name in self.content_layers}
        if self.swap_layer is not None:
            from ..features.patches import match_patches, rebuild

            if self.swap_patches is None:
                raise RuntimeError("call set_style() before content_targets() with a swap layer")
            self.swap_matches = [match_patches(sample, self.swap_patches, precision="auto") for sample in targets[self.swap_layer].split(1)]
            targets[self.swap_layer] = torch.cat(
                [rebuild(match, self.swap_patches, sample.shape[-2:]) for match, sample in zip(self.swap_matches, targets[self.swap_layer].split(1))]
            )
            self._swap_picture_size = (content.shape[-2], content.shape[-1])
        return targets

    @torch.no_grad()
    def matched_picture(self) -> torch.Tensor:
        """The style pixels chosen by the last :meth:`content_targets`' swap, ``B x 3 x H x W`` at that content's size
        (:func:`~videostyle.features.patches.matched_pixels`): the painting's colours and strokes in the content's layout."""
        from ..features.patches import matched_pixels

        if self.swap_layer is None or not self.swap_matches or self.swap_pixels is None:
            raise RuntimeError("matched_picture needs a swap layer and content_targets() first")
        stride = layer_stride(self.swap_layer)
        return torch.cat([matched_pixels(match, self.swap_pixels, stride, self._swap_picture_size) for match in self.swap_matches])

    def _with_map(self, features: torch.Tensor, which: int, layer: str) -> torch.Tensor:
        """``features`` with semantic map ``which`` (0: the style's, 1: the target's) appended as channels at their
        size, scaled by ``map_weight`` times the style's mean activation at ``layer``; unchanged without maps."""
        if self.semantic_maps is None:
            return features
        semantic = F.interpolate(self.semantic_maps[which].to(features), size=features.shape[-2:], mode="area") * self._map_scale[layer]
        return torch.cat([features, semantic.expand(features.shape[0], -1, -1, -1)], dim=1)

    def forward(self, image: torch.Tensor, content_targets: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``B x 3 x H x W`` -> ``{"content.<layer>": ..., "style.<layer>": ..., "tv": ...}`` weighted terms."""
        if not self.style_targets:
            raise RuntimeError("call set_style() before using the criterion")
        features = self.encoder(image, self.layers)
        terms: dict[str, torch.Tensor] = {}
        if self.content_weight:
            for name, weight in self.content_layers.items():
                terms[f"content.{name}"] = self.content_weight * weight * LF.content_loss(features[name], content_targets[name])
        for name, weight in self.style_layers.items() if self.style_weight else ():
            target = self.style_targets[name]
            if self.style_statistic == "gram":
                loss = LF.style_loss(features[name], cast(torch.Tensor, target))
            else:
                loss = LF.statistics_style_loss(features[name], *cast(tuple[torch.Tensor, torch.Tensor], target))
            terms[f"style.{name}"] = self.style_weight * weight * loss
        if self.mrf_layers:
            guided = {name: self._with_map(features[name], 1, name) for name in self.mrf_layers}
            stale = (
                not self._matches
                or self._calls_since_match >= MRF_REMATCH
                or any(
                    self._matches[name].shape[0] != features[name].shape[0] or self._matches[name].shape[1] != _positions(features[name])
                    for name in self.mrf_layers
                )
            )
            if stale:
                self._matches = {name: LF.nearest_style_patches(guided[name], self.style_patches[name]) for name in self.mrf_layers}
                self._calls_since_match = 0
            self._calls_since_match += 1
            for name, weight in self.mrf_layers.items():
                terms[f"mrf.{name}"] = self.mrf_weight * weight * LF.mrf_loss(guided[name], self.style_patches[name], self._matches[name])
        if self.tv_weight:
            terms["tv"] = self.tv_weight * LF.total_variation_loss(image)
        return terms
