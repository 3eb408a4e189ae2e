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
from ..checks import check_choice, check_positive, check_range, check_style_weights, describe_memory
from ..errors import VideostyleError
from ..io.atomic import atomic_path
from ..io.image import pad_to_multiple, resize_long_side, size_for_long_side, to_tensor, to_uint8
from ..models import TransformerNet
from ..models.transformer import TransformerConfig
from ..models.window_statistics import LARGEST_WINDOW, window_statistics
from ..options import PRECISIONS, RUNTIMES
from ..runs import content_digest
from ..tiles import MIN_TILE, Tile, blend_windows, check_tile, overlapping_tiles
from .frames import FrameStylizer

#: The autocast type of each lower :data:`~videostyle.options.PRECISIONS` (float32 runs without autocast).
AUTOCAST_TYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
#: The long side at which a tiled picture's normalisation statistics are taken: the whole picture, downscaled.
STATISTICS_SIDE = 2048


#: The default memory a picture may take through a one-pass network (``--max-memory``): its buffers and the network's
#: working memory, over what the process already holds. The plan depends on the picture and the options only, never on
#: what else the process holds, so the same command tiles (or not) the same way everywhere.
DEFAULT_MAX_MEMORY = 2 * 2**30
#: The largest tile chosen for a budget. Bigger windows were slower, not faster: at 4096x2304, two windows of
#: 2852 px took 18.3 s and windows of 512 px 7.2 s (docs/benchmarks.md, "How big a picture fits in a memory budget, and at what cost?").
AUTOMATIC_TILE_LIMIT = 1024
#: Bytes per pixel of the picture buffers besides the network's: the float32 output and, when it is written, its
#: 8-bit copy and the saved image's (a streamed picture; its 8-bit input is already resident when this is planned).
STREAMED_BYTES_PER_PIXEL = 18
#: The same for a picture given as a float32 tensor: its padded copy, the output and the post-processed output.
TENSOR_BYTES_PER_PIXEL = 36


#: Peak resident memory above start-up per input pixel (bytes) of the bundled networks' pass over a 2048x2048
#: picture, input and output tensors included, by architecture and runtime (``benchmarks/big_pictures.py --calibrate``).
MEASURED_BYTES_PER_PIXEL = {
    ("fast", "onnx"): 165,
    ("fast", "torch"): 184,
    ("lean", "onnx"): 210,
    ("lean", "torch"): 136,
    ("realtime", "onnx"): 80,
    ("realtime", "torch"): 90,
    ("johnson", "onnx"): 702,
    ("johnson", "torch"): 463,
}
#: The bundled configurations those were measured on: their first layer's width and input stride.
MEASURED_SHAPES = {"fast": (12, 1), "lean": (8, 1), "realtime": (16, 2), "johnson": (32, 1)}


def working_bytes_per_pixel(config: TransformerConfig, runtime: str = "onnx") -> int:
    """Bytes a pass of a network of ``config`` needs per input pixel in ``runtime``: the measured figure of its
    architecture (:data:`MEASURED_BYTES_PER_PIXEL`) and a fifth more where the network has the measured shape;
    otherwise an upper bound of every measured figure, four bytes for five channels of the first layer's width per
    input pixel, and 24 more (docs/benchmarks.md, "How big a picture fits in a memory budget, and at what cost?").

    >>> working_bytes_per_pixel(TransformerConfig(arch="fast", channels=(12, 24, 48))), working_bytes_per_pixel(TransformerConfig(arch="fast"))
    (198, 736)
    """
    measured = MEASURED_BYTES_PER_PIXEL.get((config.arch, runtime))
    if measured is not None and MEASURED_SHAPES[config.arch] == (config.channels[0], config.input_stride):
        return measured * 6 // 5
    return 4 * (5 * config.channels[0] // config.input_stride**2 + 24)


def smallest_tile(network: TransformerNet) -> int:
    """The smallest tile side for ``network``: its receptive field (``2 * reach + 1``, :meth:`TransformerNet.reach`)
    on a multiple of its stride, and at least :data:`~videostyle.tiles.MIN_TILE`. In a smaller window every pixel
    would see the window's padded border."""
    field = 2 * network.reach() + 1
    return max(MIN_TILE, -(-field // network.stride) * network.stride)


def tile_overlap(network: TransformerNet) -> int:
    """Pixels that neighbouring tiles of ``network`` share: its reach (:meth:`TransformerNet.reach`) rounded down
    to a multiple of 8, so that the pixels each window gives the blend saw little of its border. With the
    feathering of :func:`~videostyle.tiles.feather`, the bundled fast network's seams were at most 6.9 grey levels
    from one pass with the same statistics at 48 px, 10.0 at 44, and 5.2 at 52 (``python benchmarks/tile_seams.py
    --models starry_night --powers 4 --overlaps 44 52``; docs/benchmarks.md, "How tiles are blended").

    >>> [tile_overlap(TransformerNet(TransformerConfig.for_arch(arch))) for arch in ("fast", "realtime", "johnson")]
    [48, 104, 56]
    """
    return max(8, network.reach() // 8 * 8)


def tiled_stylize(
    network: TransformerNet,
    content: torch.Tensor,
    style_weights: torch.Tensor | None,
    tile: int,
    overlap: int | None = None,
    statistics_side: int | None = STATISTICS_SIDE,
) -> torch.Tensor:
    """``network`` over overlapping ``tile`` windows of ``content`` (``B x 3 x H x W``) with feathered blending, in
    PyTorch (:class:`FeedForwardStylizer` tiles in its own runtime, also onnxruntime).

    Every window is normalised with the statistics of the whole picture downscaled to ``statistics_side``
    (None: at full size) rather than its own, so the tiles agree in colour and contrast; peak memory is
    that of one window plus the picture and its output.
    """
    height, width = content.shape[-2:]
    whole = content if statistics_side is None or max(height, width) <= statistics_side else resize_long_side(content, statistics_side)
    network.record_statistics(whole, style_weights)
    try:
        overlap = min(tile_overlap(network) if overlap is None else overlap, tile // 2)
        windows = overlapping_tiles(height, width, tile, overlap, align=network.stride)
        return blend_windows(torch.zeros_like(content), windows, overlap, lambda window: network(window.of(content), style_weights))
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


class _FixedStatisticsCore(nn.Module):
    """The core normalised with given statistics (``B x 2S``, :meth:`TransformerNet.statistics_vector`): a tile's graph."""

    def __init__(self, network: TransformerNet):
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor, statistics: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        self.network.use_statistics(statistics)
        try:
            return self.network.core(images, style_weights)
        finally:
            self.network.clear_statistics()


class _Statistics(nn.Module):
    """Every normalisation layer's statistics of a picture (``B x 2S``, :meth:`TransformerNet.statistics_of`): the
    first pass before the tiles."""

    def __init__(self, network: TransformerNet):
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        return self.network.statistics_of(images, style_weights)


#: The graphs a network is exported as: the whole picture's pass, a tile's pass with given statistics, the statistics.
GRAPHS = {"stylize": (_Core, ["stylized"]), "tile": (_FixedStatisticsCore, ["stylized"]), "statistics": (_Statistics, ["statistics"])}


def export_onnx(network: TransformerNet, path: str | os.PathLike, opset: int = 17, graph: str = "stylize") -> Path:
    """Write the network as ONNX (inputs ``images`` ``B x 3 x H x W`` with H, W multiples of the network's ``stride``,
    and ``style_weights`` ``B x N`` for a multi-style network; output ``stylized``), atomically. ``graph``: one of
    :data:`GRAPHS`; ``tile`` takes ``statistics`` (``B x 2S``) after the images, ``statistics`` outputs them."""
    import warnings

    check_choice("graph", graph, tuple(GRAPHS))
    module, outputs = GRAPHS[graph]
    network = network.cpu().eval()
    example = torch.rand(1, 3, 64, 64)
    inputs: tuple = (example,)
    names = ["images"]
    axes = {"images": {0: "batch", 2: "height", 3: "width"}, "stylized": {0: "batch", 2: "height", 3: "width"}, "statistics": {0: "batch"}}
    if graph == "tile":  # means then variances, as many as the adaptive parameters (a scale and shift per channel)
        inputs, names = (example, torch.ones(1, network.num_norm_params)), ["images", "statistics"]
    if network.config.adaptive:
        inputs = (*inputs, network.style_weights(1, torch.ones(network.num_norm_params), example.device))
        names.append("style_weights")
        axes["style_weights"] = {0: "batch"}
    elif network.num_styles > 1:
        inputs = (*inputs, torch.full((1, network.num_styles), 1 / network.num_styles))
        names.append("style_weights")
        axes["style_weights"] = {0: "batch"}
    axes = {name: value for name, value in axes.items() if name in names or name in outputs}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module(network), inputs, str(tmp), input_names=names, output_names=outputs, dynamic_axes=axes, opset_version=opset, dynamo=False)
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

    def __init__(self, network: TransformerNet, threads: int | None = None, graph: str = "stylize"):
        try:
            import onnxruntime
        except ImportError:
            raise VideostyleError("runtime onnx needs onnxruntime (pip install onnxruntime)", parameter="runtime") from None
        kind = "" if graph == "stylize" else f"{graph}-"
        relative = f"onnx/transformer-{kind}{ONNX_GRAPH_VERSION}-{_network_digest(network)}.onnx"

        def export(path: Path) -> None:
            export_onnx(network, path, graph=graph)

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

    def __call__(self, padded: torch.Tensor, style_weights: torch.Tensor | None, statistics: torch.Tensor | None = None) -> torch.Tensor:
        """The graph on each image of ``padded`` (``B x 3 x H x W``); ``statistics`` (``B x 2S``) for a tile graph."""
        images = padded.cpu().numpy()
        weights = None if style_weights is None else style_weights.cpu().numpy().astype(np.float32)
        given = None if statistics is None else statistics.cpu().numpy().astype(np.float32)
        outputs = []
        for index in range(len(images)):
            feeds = {"images": images[index : index + 1]}
            if self.multi_style:
                assert weights is not None  # a multi-style network's stylizer always has its weights
                feeds["style_weights"] = weights[index : index + 1]
            if given is not None:
                feeds["statistics"] = given[index : index + 1]
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
    tile: int | None = None  # pictures longer than this run in overlapping tiles of this side
    precision: str = "float32"  # the network's arithmetic in PyTorch (:data:`PRECISIONS`); onnxruntime runs float32
    max_memory: int | None = None  # bytes a picture's pass may take on the CPU over what the process holds (None: DEFAULT_MAX_MEMORY); above, tiles
    exact_statistics: bool = False  # tiles normalised with the whole picture's statistics (window_statistics), not the downscaled picture's

    def check(self) -> FeedForwardOptions:
        check_tile(self.tile)
        if self.max_memory is not None:
            check_positive("max_memory", self.max_memory)
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


class OnePassStylizer(FrameStylizer):
    """Base of the methods that stylize each frame on its own with ``stylize_tensor``: the
    pipeline's :class:`~videostyle.methods.frames.FrameStylizer` in batches, nothing to remember."""

    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def stylize_batch(self, indices: Sequence[int], frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``H x W x 3`` uint8 frames (same size) -> stylized uint8 frames."""
        batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div_(255)
        return [to_uint8(image[None]) for image in self.stylize_tensor(batch)]

    def stylize_picture(self, picture: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        """One ``H x W x 3`` uint8 picture -> ``1 x 3 x H x W`` in [0, 1], and lines for the user about how it ran."""
        return self.stylize_tensor(to_tensor(picture)), []


class FeedForwardStylizer(OnePassStylizer):
    """Stylize frames with a trained transformer network; stateless between frames.

    ``stylize_tensor(B x 3 x H x W) -> B x 3 x H x W`` in [0, 1]; ``stylize_batch`` does the
    same for uint8 frames (the :class:`~videostyle.methods.frames.FrameStylizer` interface).
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
            self.network = self.network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from the stubs
        if self.options.runtime == "onnx" and self.device.type != "cpu":
            raise VideostyleError("runtime onnx runs on the CPU; use runtime torch on a GPU", parameter="runtime")
        if self.options.runtime == "onnx" and self.options.precision != "float32":
            raise VideostyleError(f"precision {self.options.precision} needs runtime torch (onnxruntime runs float32)", parameter="runtime")
        self.runner = OnnxRunner(self.network) if self.options.runtime == "onnx" else None

        self.smallest_tile = smallest_tile(self.network)
        if self.options.tile is not None and self.options.tile < self.smallest_tile:
            raise VideostyleError(
                f"tile must be at least {self.smallest_tile} pixels for this network (its receptive field is {2 * self.network.reach() + 1} px), "
                f"got {self.options.tile}",
                parameter="tile",
            )
        self._tile_runner: OnnxRunner | None = None
        self.notes: list[str] = []  # what the user should know about how pictures ran (automatic tiles)

    def fits(self, height: int, width: int, batch: int = 1, picture_bytes_per_pixel: int = TENSOR_BYTES_PER_PIXEL) -> bool:
        """Whether one pass over ``batch`` whole pictures of ``height x width`` stays within ``max_memory`` (always off the CPU)."""
        if self.device.type != "cpu":
            return True  # a GPU's memory is not this budget's; out of memory there says to give a tile
        free, per_pixel, at_once = self._memory(height, width, batch, picture_bytes_per_pixel)
        return at_once * height * width * per_pixel <= free

    def _memory(self, height: int, width: int, batch: int, picture_bytes_per_pixel: int) -> tuple[int, int, int]:
        """``(bytes free for the network, its bytes per pixel, pictures it runs at once)`` for ``batch`` pictures."""
        free = (self.options.max_memory or DEFAULT_MAX_MEMORY) - batch * height * width * picture_bytes_per_pixel
        at_once = 1 if self.options.runtime == "onnx" else batch  # onnxruntime runs a batch picture by picture
        return free, working_bytes_per_pixel(self.network.config, self.options.runtime), at_once

    def tile_for(
        self, height: int, width: int, batch: int = 1, picture_bytes_per_pixel: int = TENSOR_BYTES_PER_PIXEL, one_pass_bytes_per_pixel: int | None = None
    ) -> int | None:
        """The tile side for ``batch`` pictures of ``height x width``, or None for one pass over the whole: the
        options' ``tile`` where the picture is longer; otherwise, on the CPU, the largest tile with which the pass
        stays within ``max_memory`` (:func:`working_bytes_per_pixel` per pixel of a window, ``picture_bytes_per_pixel``
        per pixel of the picture), when the whole pass would not (with ``one_pass_bytes_per_pixel`` per pixel of the
        picture where one pass holds other buffers than tiles: a streamed picture runs one pass as a tensor)."""
        if self.options.tile is not None:
            return self.options.tile if max(height, width) > self.options.tile else None
        if self.fits(height, width, batch, one_pass_bytes_per_pixel or picture_bytes_per_pixel):
            return None
        budget = self.options.max_memory or DEFAULT_MAX_MEMORY
        free, per_pixel, at_once = self._memory(height, width, batch, picture_bytes_per_pixel)
        side = int((max(free, 0) / (at_once * per_pixel)) ** 0.5) // self.network.stride * self.network.stride
        if side < self.smallest_tile:
            least = budget - free + at_once * self.smallest_tile**2 * per_pixel
            raise VideostyleError(
                f"max_memory {describe_memory(budget)} is too small for a {width}x{height} picture: even one tile of {self.smallest_tile} px "
                f"needs about {-(-least // 2**20)} MiB",
                parameter="max_memory",
            )
        return min(side, AUTOMATIC_TILE_LIMIT)

    @torch.inference_mode()
    def stylize_tensor(self, content: torch.Tensor) -> torch.Tensor:
        content = content.to(self.device)
        height, width = content.shape[-2:]
        weights = None if self.style_weights is None else self.style_weights.expand(content.shape[0], -1)
        batch = content.shape[0]
        if batch > 1 and self.options.tile is None and not self.fits(height, width, batch) and self.fits(height, width):
            return torch.cat([self.stylize_tensor(frame[None]) for frame in content])  # a batch over the budget, a frame within: frame by frame
        tile = self._tile_and_note(height, width, batch, TENSOR_BYTES_PER_PIXEL)
        if tile is not None:
            output = torch.zeros_like(content)
            return self._tiled(output, lambda window: window.of(content), content, tile, weights)
        return post_process(self._whole(content, weights), content, self.options.strength, self.options.preserve_color, self.options.color_method)

    def _whole(self, content: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """The network's pass over whole pictures ``B x 3 x H x W``, before post-processing."""
        height, width = content.shape[-2:]
        dtype = AUTOCAST_TYPES.get(self.options.precision)
        with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            padded = pad_to_multiple(content, self.network.stride)
            if self.runner is not None:
                stylized = self.runner(padded, weights).to(self.device)
            else:
                if self.options.channels_last:
                    padded = padded.contiguous(memory_format=torch.channels_last)
                stylized = self.network.core(padded, weights)
        return stylized[..., :height, :width].float().contiguous()

    @torch.inference_mode()
    def stylize_picture(self, picture: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        """One ``H x W x 3`` uint8 picture -> its stylized ``1 x 3 x H x W`` float32 tensor, and a line for the user
        when it ran in tiles that it was not asked for. A picture over the memory budget streams: each window is read
        from the 8-bit picture, stylized and blended into the output, so the whole picture exists in float32 once."""
        height, width = picture.shape[:2]
        known = len(self.notes)
        tile = self._tile_and_note(height, width, 1, STREAMED_BYTES_PER_PIXEL, one_pass_bytes_per_pixel=TENSOR_BYTES_PER_PIXEL)
        if tile is None:
            return self.stylize_tensor(to_tensor(picture, self.device)), []
        notes = self.notes[known:]

        def read(window: Tile) -> torch.Tensor:
            rows = picture[window.top : window.top + window.height, window.left : window.left + window.width]
            return torch.from_numpy(np.ascontiguousarray(rows)).to(self.device).permute(2, 0, 1)[None].float().div_(255)

        output = torch.zeros(1, 3, height, width, device=self.device)
        weights = self.style_weights
        return self._tiled(output, read, picture, tile, weights), notes

    def _tile_and_note(self, height: int, width: int, batch: int, picture_bytes_per_pixel: int, one_pass_bytes_per_pixel: int | None = None) -> int | None:
        """:meth:`tile_for`, with a line in :attr:`notes` the first time a size runs in tiles it was not asked for."""
        tile = self.tile_for(height, width, batch, picture_bytes_per_pixel, one_pass_bytes_per_pixel)
        if tile is not None and self.options.tile is None:
            budget = (self.options.max_memory or DEFAULT_MAX_MEMORY) / 2**20
            note = f"{width}x{height} does not fit in one pass within max_memory {budget:.0f} MiB: stylized in tiles of {tile} px"
            if note not in self.notes:
                self.notes.append(note)
        return tile

    def _statistics_picture(self, picture: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The picture (``B x 3 x H x W``, or an 8-bit ``H x W x 3`` array) at most :data:`STATISTICS_SIDE` long, for the
        normalisation statistics and the colour map of all its tiles."""
        if isinstance(picture, torch.Tensor):
            return picture if max(picture.shape[-2:]) <= STATISTICS_SIDE else resize_long_side(picture, STATISTICS_SIDE)
        height, width = picture.shape[:2]
        if max(height, width) > STATISTICS_SIDE:
            from PIL import Image

            small_height, small_width = size_for_long_side(height, width, STATISTICS_SIDE)
            picture = np.asarray(Image.fromarray(picture).resize((small_width, small_height), Image.Resampling.BILINEAR))
        return to_tensor(picture, self.device)

    def _statistics_cache_bytes(self, picture: torch.Tensor | np.ndarray, tile: int) -> int | None:
        """What the exact statistics' cached activations may take within ``max_memory`` beside ``picture`` (the
        tensor, or the streamed 8-bit array) and its output, and a window of at most ``tile`` px; None off the CPU."""
        if self.device.type != "cpu":
            return None
        if isinstance(picture, np.ndarray):
            free, _, _ = self._memory(picture.shape[0], picture.shape[1], 1, STREAMED_BYTES_PER_PIXEL)
        else:
            free, _, _ = self._memory(picture.shape[-2], picture.shape[-1], picture.shape[0], TENSOR_BYTES_PER_PIXEL)
        return free - min(tile, LARGEST_WINDOW) ** 2 * working_bytes_per_pixel(self.network.config, "torch")

    def _tiled(self, output: torch.Tensor, read, picture: torch.Tensor | np.ndarray, tile: int, style_weights: torch.Tensor | None) -> torch.Tensor:
        """``output`` (``B x 3 x H x W`` zeros) filled tile by tile: each window ``read(window)`` normalised with the
        statistics of the picture downscaled (:meth:`_statistics_picture` of ``picture``, the tensor or the 8-bit
        array) or, with ``exact_statistics``, the whole picture's own
        (:func:`~videostyle.models.window_statistics.window_statistics`, in PyTorch), then post-processed (a colour map
        from the downscaled picture for histogram colour preservation), in onnxruntime or PyTorch as the options say."""
        height, width = output.shape[-2:]
        batch = output.shape[0]
        weights = None if style_weights is None else style_weights.expand(batch, -1)
        stride = self.network.stride
        histogram = self.options.preserve_color == "histogram"
        whole = self._statistics_picture(picture) if histogram or not self.options.exact_statistics else None  # the picture downscaled, where used
        if whole is None or self.options.exact_statistics:
            statistics = window_statistics(self.network, read, height, width, tile, weights, cache_bytes=self._statistics_cache_bytes(picture, tile))
        elif self.options.runtime == "onnx":
            # A session for this one pass: its memory arena makes the pass 3.4 times faster than running without
            # one (1.1 s against 3.7 s at 2048x1368), and goes with the session, before the tiles run.
            statistics = OnnxRunner(self.network, graph="statistics")(pad_to_multiple(whole, stride), weights)
        else:
            statistics = self.network.statistics_of(pad_to_multiple(whole, stride), weights)
        if self.options.runtime == "onnx":
            if self._tile_runner is None:
                self._tile_runner = OnnxRunner(self.network, graph="tile")
            tile_runner = self._tile_runner

            def network(window: torch.Tensor) -> torch.Tensor:
                return tile_runner(pad_to_multiple(window, stride), weights, statistics).to(self.device)[..., : window.shape[-2], : window.shape[-1]]
        else:
            dtype = AUTOCAST_TYPES.get(self.options.precision)

            def network(window: torch.Tensor) -> torch.Tensor:
                self.network.use_statistics(statistics)
                try:
                    with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                        return self.network.core(pad_to_multiple(window, stride), weights)[..., : window.shape[-2], : window.shape[-1]].float()
                finally:
                    self.network.clear_statistics()

        strength = self.options.strength
        blend = (
            (lambda stylized, content: stylized) if strength == 1 else (lambda stylized, content: (strength * stylized + (1 - strength) * content).clamp(0, 1))
        )
        mapping = None
        if histogram and whole is not None:  # one colour map for all the tiles: the downscaled whole picture's
            stylized_whole = blend(self._whole(whole, weights), whole)
            mapping = [color.color_map(s[None], c[None], self.options.color_method) for s, c in zip(stylized_whole, whole)]

        def stylize_window(window: Tile) -> torch.Tensor:
            content = read(window)
            stylized = network(content).clamp(0, 1)
            if mapping is not None:
                return torch.cat([color.apply_color_map(s[None], m) for s, m in zip(blend(stylized, content), mapping)])
            return post_process(stylized, content, strength, self.options.preserve_color, self.options.color_method)

        overlap = min(tile_overlap(self.network), tile // 2)
        return blend_windows(output, overlapping_tiles(height, width, tile, overlap, align=stride), overlap, stylize_window)


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
