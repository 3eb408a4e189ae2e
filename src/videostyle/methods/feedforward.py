"""Feed-forward stylization: one network pass per frame (Johnson et al. 2016, Dumoulin et al. 2017).

:class:`FeedForwardStylizer` turns batches of ``H x W x 3`` uint8 frames into stylized frames
with a trained :class:`~videostyle.models.TransformerNet`, in PyTorch (``torch.inference_mode``)
or in onnxruntime on an exported graph. After the network: the strength (a blend with the
input) and colour preservation (Gatys et al. 2016, applied to the output).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import color
from ..cache import cached_file, discard
from ..checks import check_choice, check_positive, check_range, check_style_weights
from ..errors import VideostyleError
from ..io.atomic import atomic_path
from ..io.image import pad_to_multiple, resize_long_side, to_uint8
from ..models import TransformerNet
from ..runs import content_digest
from ..tiles import check_tile, feather, overlapping_tiles

RUNTIMES = ("torch", "onnx")
#: One-pass inference precisions: the network under autocast to that type (float32: none); the result is float32.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
#: Pixels that neighbouring tiles of a one-pass network share, blended by a linear ramp (the residual blocks'
#: reach is about 20 cells of 4 pixels). Only this value was measured (docs/benchmarks.md, "Big pictures in tiles").
TILE_OVERLAP = 64
#: The long side at which a tiled picture's normalisation statistics are taken: the whole picture, downscaled.
STATISTICS_SIDE = 2048


def tiled_stylize(
    network: TransformerNet,
    content: torch.Tensor,
    style_weights: torch.Tensor | None,
    tile: int,
    overlap: int = TILE_OVERLAP,
    statistics_side: int | None = STATISTICS_SIDE,
) -> torch.Tensor:
    """``network`` over overlapping ``tile`` windows of ``content`` (``B x 3 x H x W``) with feathered blending.

    Every window is normalised with the statistics of the whole picture downscaled to ``statistics_side``
    (None: at full size) rather than its own, so the tiles agree in colour and contrast; peak memory is
    that of one window plus the picture and its output.
    """
    height, width = content.shape[-2:]
    overlap = min(overlap, tile // 2)
    whole = content if statistics_side is None or max(height, width) <= statistics_side else resize_long_side(content, statistics_side)
    network.record_statistics(whole, style_weights)
    try:
        output = torch.zeros_like(content)
        total = torch.zeros(1, 1, height, width, device=content.device)
        for window in overlapping_tiles(height, width, tile, overlap, align=network.stride):
            weight = feather(window, height, width, overlap).to(content.device)
            window.of(output).add_(weight * network(window.of(content), style_weights))
            window.of(total).add_(weight)
        return output.div_(total)
    finally:
        network.clear_statistics()


def model_style_mix(weights: dict[str, float] | None, names: Sequence[str]) -> list[float] | None:
    """``{"starry_night": 0.7, "graffiti": 0.3}`` -> weights in the network's style order, normalised to sum 1
    (styles not named get 0; None: None, which means equal weights)."""
    if weights is None:
        return None
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise VideostyleError(f"model_style_weights names {unknown[0]!r}, but the model's styles are {', '.join(names)}", parameter="model_style_weights")
    return check_style_weights([float(weights.get(name, 0.0)) for name in names], len(names), "model_style_weights")


def post_process(stylized: torch.Tensor, content: torch.Tensor, strength: float, preserve_color: str, color_method: str = "cholesky") -> torch.Tensor:
    """Strength blend ``s * stylized + (1 - s) * content``, then colour preservation, per image of the batch."""
    if strength != 1:
        stylized = (strength * stylized + (1 - strength) * content).clamp(0, 1)
    if preserve_color == "luminance":
        stylized = color.combine_luminance(stylized, content)
    elif preserve_color == "histogram":
        stylized = torch.cat([color.match_color_statistics(s[None], c[None], color_method) for s, c in zip(stylized, content)])
    return stylized


class _Core(nn.Module):
    """The network's padded-size core with explicit style weights, the graph ONNX export traces."""

    def __init__(self, network: TransformerNet):
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        return self.network.core(images, style_weights)


def export_onnx(network: TransformerNet, path: str | os.PathLike, opset: int = 17) -> Path:
    """Write the network as ONNX (inputs ``images`` ``B x 3 x H x W`` with H, W multiples of the network's ``stride``,
    and ``style_weights`` ``B x N`` for a multi-style network; output ``stylized``), atomically."""
    import warnings

    network = network.cpu().eval()
    example = torch.rand(1, 3, 64, 64)
    inputs: tuple = (example,)
    names, axes = ["images"], {"images": {0: "batch", 2: "height", 3: "width"}, "stylized": {0: "batch", 2: "height", 3: "width"}}
    if network.config.adaptive:
        inputs = (example, network.style_weights(1, torch.ones(network.num_norm_params), example.device))
        names.append("style_weights")
        axes["style_weights"] = {0: "batch"}
    elif network.num_styles > 1:
        inputs = (example, torch.full((1, network.num_styles), 1 / network.num_styles))
        names.append("style_weights")
        axes["style_weights"] = {0: "batch"}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Core(network), inputs, str(tmp), input_names=names, output_names=["stylized"], dynamic_axes=axes, opset_version=opset, dynamo=False)
    return Path(path)


#: Part of each cached graph's name: raised whenever the code changes the graph of the same network
#: (2: sub-pixel upsampling; 3: the reflected margin of zero-padding networks).
ONNX_GRAPH_VERSION = 3


def _network_digest(network: TransformerNet) -> str:
    """Digest of the network's config (its padding, margin and stride shape the graph too) and weights."""
    state = network.state_dict().items()
    config = json.dumps(network.config.to_dict(), sort_keys=True).encode()
    return content_digest([config, *(chunk for name, value in state for chunk in (name.encode(), value.detach().cpu().numpy().tobytes()))], 20)


class OnnxRunner:
    """Runs an exported network in onnxruntime; the graph is exported once and cached by weight digest.

    A batch runs image by image: at 640x360 on 2 cores one image took 64 ms and a batch of four 76 ms per
    image (docs/benchmarks.md). The threads do not spin between calls, so that the pipeline's decoding and
    writing threads get the cores.
    """

    def __init__(self, network: TransformerNet, threads: int | None = None):
        try:
            import onnxruntime
        except ImportError:
            raise VideostyleError("runtime onnx needs onnxruntime (pip install onnxruntime)", parameter="runtime") from None
        relative = f"onnx/transformer-{ONNX_GRAPH_VERSION}-{_network_digest(network)}.onnx"

        def export(path: Path) -> None:
            export_onnx(network, path)

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = cached_file(relative, export, "ONNX graph")  # verified by its checksum; rebuilt when damaged
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception:  # verified yet unloadable (another onnxruntime's file?): exported again
            discard(path)
            self.session = onnxruntime.InferenceSession(str(cached_file(relative, export, "ONNX graph")), options, providers=["CPUExecutionProvider"])
        self.multi_style = network.num_styles > 1 or network.config.adaptive

    def __call__(self, padded: torch.Tensor, style_weights: torch.Tensor | None) -> torch.Tensor:
        images = padded.cpu().numpy()
        weights = None if style_weights is None else style_weights.cpu().numpy().astype(np.float32)
        outputs = []
        for index in range(len(images)):
            feeds = {"images": images[index : index + 1]}
            if self.multi_style:
                feeds["style_weights"] = weights[index : index + 1]
            outputs.append(self.session.run(None, feeds)[0])
        return torch.from_numpy(np.concatenate(outputs))


@dataclass
class FeedForwardOptions:
    """Inference settings of :class:`FeedForwardStylizer` (defaults are the CLI's)."""

    style_mix: list[float] | None = None
    strength: float = 1.0
    preserve_color: str = "none"
    color_method: str = "cholesky"
    runtime: str = "torch"
    batch_size: int = 4
    channels_last: bool = False
    tile: int | None = None  # pictures longer than this run in overlapping tiles (in PyTorch): :func:`tiled_stylize`
    precision: str = "float32"  # the network's arithmetic in PyTorch (:data:`PRECISIONS`); onnxruntime runs float32

    def check(self) -> FeedForwardOptions:
        check_tile(self.tile)
        check_choice("precision", self.precision, tuple(PRECISIONS))
        check_range("strength", self.strength, 0, 1)
        check_choice("preserve_color", self.preserve_color, color.PRESERVE_COLOR)
        check_choice("runtime", self.runtime, RUNTIMES)
        check_positive("batch_size", self.batch_size)
        return self

    def on(self, device: torch.device | str) -> FeedForwardOptions:
        """These options for ``device``: ``runtime`` chooses the engine on the CPU only (onnxruntime runs
        there); on any other device the network runs in PyTorch.

        >>> FeedForwardOptions(runtime="onnx").on("cuda").runtime, FeedForwardOptions(runtime="onnx").on("cpu").runtime
        ('torch', 'onnx')
        """
        return self if torch.device(device).type == "cpu" else replace(self, runtime="torch")


class OnePassStylizer:
    """Base of the methods that stylize each frame on its own with ``stylize_tensor``: the
    pipeline's :class:`~videostyle.pipeline.FrameStylizer` in batches, nothing to remember."""

    batch_size: int = 1

    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def stylize_batch(self, indices: Sequence[int], frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``H x W x 3`` uint8 frames (same size) -> stylized uint8 frames."""
        batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div_(255)
        return [to_uint8(image[None]) for image in self.stylize_tensor(batch)]

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        """Nothing to remember: each frame is stylized on its own."""


class FeedForwardStylizer(OnePassStylizer):
    """Stylize frames with a trained transformer network; stateless between frames.

    ``stylize_tensor(B x 3 x H x W) -> B x 3 x H x W`` in [0, 1]; ``stylize_batch`` does the
    same for uint8 frames (the :class:`~videostyle.pipeline.FrameStylizer` interface).
    ``style_vector``: for an adaptive network, the ``P`` normalisation parameters of the style.
    """

    def __init__(
        self, network: TransformerNet, options: FeedForwardOptions | None = None, device: torch.device | str = "cpu", style_vector: torch.Tensor | None = None
    ):
        self.options = (options or FeedForwardOptions()).check()
        self.device = torch.device(device)
        self.network = network.to(self.device).eval().requires_grad_(False)
        self.batch_size = self.options.batch_size
        names = list(network.config.style_names) or [f"style{i}" for i in range(network.num_styles)]
        if network.config.adaptive:  # the arbitrary-style network: normalisation parameters predicted from a style
            if style_vector is None:
                raise VideostyleError("an adaptive network needs the style's predicted normalisation parameters")
            self.style_weights = network.style_weights(1, style_vector.to(self.device).reshape(1, -1), self.device)
        elif network.num_styles > 1:
            mix = self.options.style_mix or [1.0 / network.num_styles] * network.num_styles
            if len(mix) != network.num_styles:
                raise VideostyleError(f"{len(mix)} style weights for a network of {network.num_styles} styles ({', '.join(names)})")
            self.style_weights = torch.tensor([mix], dtype=torch.float32, device=self.device)
        else:
            if self.options.style_mix is not None and len(self.options.style_mix) != 1:
                raise VideostyleError("model_style_weights needs a multi-style model; this one has a single style", parameter="model_style_weights")
            self.style_weights = None
        if self.options.channels_last:
            self.network = self.network.to(memory_format=torch.channels_last)
        if self.options.runtime == "onnx" and self.device.type != "cpu":
            raise VideostyleError("runtime onnx runs on the CPU; use runtime torch on a GPU", parameter="runtime")
        if self.options.runtime == "onnx" and self.options.precision != "float32":
            raise VideostyleError(f"precision {self.options.precision} needs runtime torch (onnxruntime runs float32)", parameter="runtime")
        self.runner = OnnxRunner(self.network) if self.options.runtime == "onnx" else None

    @torch.inference_mode()
    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        content = content.to(self.device)
        height, width = content.shape[-2:]
        weights = None if self.style_weights is None else self.style_weights.expand(content.shape[0], -1)
        dtype = PRECISIONS[self.options.precision]
        with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            if self.options.tile is not None and max(height, width) > self.options.tile:
                stylized = tiled_stylize(self.network, content, weights, self.options.tile)  # each window padded on its own
            else:
                padded = pad_to_multiple(content, self.network.stride)
                if self.runner is not None:
                    stylized = self.runner(padded, weights).to(self.device)
                else:
                    if self.options.channels_last:
                        padded = padded.contiguous(memory_format=torch.channels_last)
                    stylized = self.network.core(padded, weights)
        stylized = stylized[..., :height, :width].float().contiguous()
        return post_process(stylized, content, self.options.strength, self.options.preserve_color, self.options.color_method)


def load_stylizer(
    model: str | os.PathLike, model_style_weights: dict[str, float] | None = None, options: FeedForwardOptions | None = None, device: torch.device | str = "cpu"
) -> tuple[FeedForwardStylizer, dict]:
    """Load a trained model (bundled name or file) and build its stylizer; returns it with the file's info.

    ``model_style_weights``: ``{style name: weight}`` of a multi-style model. Off the CPU the runtime is always PyTorch.
    """
    from ..models import load_transformer

    device = torch.device(device)
    network, info = load_transformer(model, device)
    if model_style_weights is not None and network.num_styles == 1:
        raise VideostyleError(f"model_style_weights needs a multi-style model; {model} has a single style", parameter="model_style_weights")
    options = replace(options or FeedForwardOptions(), style_mix=model_style_mix(model_style_weights, list(network.config.style_names)))
    return FeedForwardStylizer(network, options.on(device), device), info
