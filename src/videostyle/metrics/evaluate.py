"""One pass over an original clip and its stylized version: every metric, per frame.

Short-term (gap 1) and long-term (gap ``long_gap``) warping errors of the output, and the same
errors of the input clip itself (the floor that flow error sets; the ratio output / input is
the figure to compare across clips), with flow estimated once per pair on the ORIGINAL frames;
content distance (relu4_2 features of output vs input) and, given the style image, style
distance (Gram matrices on the style layers), so a method cannot win on flicker by dropping the
style. Frames stream: only ``long_gap + 1`` of each clip are held.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import VideostyleError
from ..features import VGGEncoder
from ..flow import FlowCache, FlowEstimator
from ..io.image import resize, to_tensor
from ..io.video import zip_clips
from ..losses import DEFAULT_STYLE_LAYERS
from ..losses import functional as LF
from .temporal import pair_error

CONTENT_LAYER = "relu4_2"


@dataclass
class ClipReport:
    frames: int = 0
    long_gap: int = 10
    short_term: list[float] = field(default_factory=list)
    short_term_input: list[float] = field(default_factory=list)
    long_term: list[float] = field(default_factory=list)
    long_term_input: list[float] = field(default_factory=list)
    content_distance: list[float] = field(default_factory=list)
    style_distance: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | None]:
        mean = lambda values: float(np.mean(values)) if values else None
        ratio = lambda a, b: (a / b) if a is not None and b else None
        short, short_in, long, long_in = (mean(self.short_term), mean(self.short_term_input), mean(self.long_term), mean(self.long_term_input))
        return {
            "frames": self.frames,
            "short_term_error": short,
            "short_term_error_input": short_in,
            "short_term_ratio": ratio(short, short_in),
            f"long_term_error_gap{self.long_gap}": long,
            f"long_term_error_input_gap{self.long_gap}": long_in,
            "long_term_ratio": ratio(long, long_in),
            "content_distance": mean(self.content_distance),
            "style_distance": mean(self.style_distance),
        }

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "per_frame": asdict(self)}


def style_grams_at(encoder: VGGEncoder, style: torch.Tensor, long_side: int, layers: Iterable[str] = DEFAULT_STYLE_LAYERS) -> dict[str, torch.Tensor]:
    """Gram matrices of ``style`` (``1 x 3 x H x W``) resized to ``long_side`` (the pictures' own, as the methods use it)."""
    scale = long_side / max(style.shape[-2:])
    sized = resize(style, (max(1, round(style.shape[-2] * scale)), max(1, round(style.shape[-1] * scale))))
    with torch.no_grad():
        return {name: LF.gram_matrix(value) for name, value in encoder(sized, list(layers)).items()}


def grams_distance(features: dict[str, torch.Tensor], style_grams: dict[str, torch.Tensor]) -> float:
    """The style distance: the Gram style loss of ``features`` against ``style_grams``, summed over their layers."""
    return sum(float(LF.style_loss(features[name], gram)) for name, gram in style_grams.items())


def style_distance(encoder: VGGEncoder, picture: torch.Tensor, style: torch.Tensor, layers: Iterable[str] = DEFAULT_STYLE_LAYERS) -> float:
    """The style distance of one picture (``1 x 3 x H x W``) to ``style``, as :func:`evaluate_clip` scores a frame."""
    grams = style_grams_at(encoder, style.to(picture.device), max(picture.shape[-2:]), layers)
    with torch.no_grad():
        return grams_distance(encoder(picture, list(layers)), grams)


def _frame_pairs(originals: Iterable[np.ndarray], outputs: Iterable[np.ndarray]):
    for index, (original, output) in enumerate(zip_clips(originals, outputs)):
        if original.shape != output.shape:
            raise VideostyleError(f"frame {index}: original is {original.shape[1]}x{original.shape[0]}, stylized is {output.shape[1]}x{output.shape[0]}")
        yield original, output


def evaluate_clip(
    originals: Iterable[np.ndarray],
    outputs: Iterable[np.ndarray],
    flows: FlowEstimator | FlowCache,
    long_gap: int = 10,
    encoder: VGGEncoder | None = None,
    style: torch.Tensor | None = None,
) -> ClipReport:
    """All metrics of ``outputs`` (``H x W x 3`` uint8 frames) against ``originals`` of the same size.

    ``flows``: an estimator run on the original frames, or a :class:`~videostyle.flow.FlowCache`
    (for example one reading the exact flows of a ground-truth sequence from its folder).

    Content and style distances need ``encoder``; the style distance also ``style``
    (``1 x 3 x H x W``, used at the frames' long side, as the methods use it).
    """
    if long_gap < 2:
        raise VideostyleError(f"the long-term gap must be at least 2 frames, got {long_gap}")
    report = ClipReport(long_gap=long_gap)
    cache = flows if isinstance(flows, FlowCache) else FlowCache(None, flows)
    recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=long_gap + 1)
    style_grams = None
    device = next(encoder.parameters()).device if encoder is not None else None
    layers = [CONTENT_LAYER, *DEFAULT_STYLE_LAYERS]
    for index, (original, output) in enumerate(_frame_pairs(originals, outputs)):
        recent.append((original, output))
        report.frames += 1
        for gap, errors, floor in ((1, report.short_term, report.short_term_input), (long_gap, report.long_term, report.long_term_input)):
            if len(recent) > gap:
                then_original, then_output = recent[-1 - gap]
                backward, weights = cache.backward_and_weights(index - gap, index, then_original, original)
                errors.append(pair_error(then_output, output, backward, weights))
                floor.append(pair_error(then_original, original, backward, weights))
        if encoder is None:
            continue
        with torch.no_grad():
            out_features = encoder(to_tensor(output, device), layers)
            in_features = encoder(to_tensor(original, device), [CONTENT_LAYER])
            report.content_distance.append(float(LF.content_loss(out_features[CONTENT_LAYER], in_features[CONTENT_LAYER])))
            if style is not None:
                if style_grams is None:
                    style_grams = style_grams_at(encoder, style.to(device), max(original.shape[:2]))
                report.style_distance.append(grams_distance(out_features, style_grams))
    if report.frames == 0:
        raise VideostyleError("no frames to evaluate")
    return report
