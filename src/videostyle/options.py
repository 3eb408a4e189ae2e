"""The options of the methods, as plain dataclasses that check themselves: :class:`PictureOptions` (what every
method shares: size, style mix, colour, tiles), :class:`GatysOptions` (optimisation of a picture),
:class:`VideoOptions` (Ruder et al.'s video on top of it) and :class:`AdaptOptions` (adapting a fast network to a
style), with the names they choose from. Each field has one of them as its owner.

:class:`~videostyle.spec.MethodSpec` holds them and the methods read them. This module imports no method, so the
spec, the front ends and the methods all depend on it; what a check compares against that lives in a lower layer
(the flow estimators, the MRF rematch interval, a model file's kind) is imported inside the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import color
from .checks import check_choice, check_positive, check_range, check_size
from .errors import VideostyleError
from .tiles import check_tile

#: The optimisers of :func:`~videostyle.methods.optimize.optimize_image`.
OPTIMIZERS = ("lbfgs", "adam")
#: Engines of the one-pass networks on the CPU: PyTorch or onnxruntime.
RUNTIMES = ("torch", "onnx")
#: One-pass inference precisions: the network under autocast to that type (float32: none); the result is float32.
PRECISIONS = ("float32", "bfloat16", "float16")

#: Starting pictures: the content, noise, the (first) style resized, or the style pixels a style swap matched to
#: the content (:meth:`~videostyle.losses.PerceptualLoss.matched_picture`; style swap's own start).
INITS = ("content", "noise", "style", "matched")
#: Pixels of mirrored picture around the picture while it is optimised, cropped off at the end. Without them the
#: style loss draws a dark edge and a light band a few pixels in along every border (the network's padding makes
#: the border a feature the Gram matrices can use); with them that band falls outside the picture
#: (docs/benchmarks.md, "Why did optimised pictures get a bright border, and what removes it?").
MARGIN = 16
#: Default weight of the MRF terms. On the bundled photo and Starry Night at 192 px (100 iterations), 0.1 left
#: faint texture, 0.3 visible swirls with the face kept, 1.0 replaced the face by swirls (docs/images/mrf_sheet.jpg).
MRF_WEIGHT = 0.5
#: Coarse-to-fine's coarser scales get 1/COARSE_SHARE of ``iterations`` each unless ``coarse_iterations`` is set. At
#: 512 px and 3 scales, the time to reach the single-scale loss: 0.75x with 20 coarse iterations against 0.82x with
#: 100 (100 at full size); 0.88x with 100 against 1.05x with 500 (500 at full size) (docs/benchmarks.md, "Coarse-to-fine, a cheaper Gram matrix and a third distillation stage").
COARSE_SHARE = 5
#: The style loss of the optimisation: Gram matrices (Gatys et al. 2015), patch matching (MRF, Li and Wand 2016), or
#: both; ``swap`` is method style-swap's (Chen and Schmidt 2016): the content target swapped (see
#: ``PerceptualLoss.swap_layer``) and Gram terms below the swap layer only (:func:`swap_style_layers`), set by the method, not a flag.
STYLE_LOSSES = ("gram", "mrf", "gram+mrf", "swap")
#: The layer of style swap (Chen and Schmidt 2016 swap at relu3_1).
SWAP_LAYER = "relu3_1"


@dataclass
class PictureOptions:
    """What every method does around its own work on a picture; :class:`~videostyle.spec.MethodSpec` owns these
    fields and hands them to each method (:meth:`~videostyle.spec.MethodSpec.picture_options`).

    ``size``: the output's long side in pixels (None: the content's own); ``style_weights``: the style images'
    mix (None: equal); ``preserve_color`` and ``color_method``: Gatys et al. 2016's colour control; ``tile``:
    pictures longer than this many pixels are processed in tiles, memory bounded by the tile (None: whole).
    """

    size: int | None = None
    style_weights: list[float] | None = None
    preserve_color: str = "none"
    color_method: str = "cholesky"
    tile: int | None = None

    @property
    def luminance(self) -> bool:
        """Whether colour is kept by optimising the luminance alone (``preserve_color`` luminance)."""
        return self.preserve_color == "luminance"

    def check(self) -> PictureOptions:
        check_size("size", self.size)
        check_choice("preserve_color", self.preserve_color, color.PRESERVE_COLOR)
        check_choice("color_method", self.color_method, color.COLOR_METHODS)
        check_tile(self.tile)
        return self


#: The output's long side of an optimised picture where none is given (:func:`~videostyle.api.stylize_image`, the
#: ``image`` command).
IMAGE_SIZE = 512


@dataclass
class GatysOptions:
    """Every knob of the optimisation method, with defaults that give a good 512 px result. The picture's size,
    style mix, colour control and tiles are :class:`PictureOptions`, given beside these.

    ``style_scale`` sizes each style image relative to the output's long side;
    ``scales`` > 1 optimises coarse-to-fine, halving the size per scale, with ``iterations`` at the
    output's size and ``coarse_iterations`` (None: a fifth of ``iterations``, :data:`COARSE_SHARE`) at each coarser one.
    With a tile (:attr:`PictureOptions.tile`), scales longer than it are scored over tiles with whole-picture Gram
    matrices (:class:`~videostyle.losses.tiled.TiledPerceptualLoss`). ``style_loss``: one
    of :data:`STYLE_LOSSES`; the MRF term is weighted by ``mrf_weight`` on ``mrf_layers``. ``margin``: pixels of
    mirrored picture optimised around it and cropped off (:data:`MARGIN`, :func:`add_margin`).
    """

    iterations: int = 500
    content_weight: float = 1.0
    style_weight: float = 50.0
    tv_weight: float = 1e4
    content_layers: dict[str, float] = field(default_factory=lambda: {"relu4_2": 1.0})
    style_layers: dict[str, float] = field(default_factory=lambda: {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0})
    style_scale: float = 1.0
    optimizer: str = "lbfgs"
    learning_rate: float | None = None
    init: str | None = None  # None: the method's own start (:attr:`start`)
    seed: int = 0
    tolerance: float = 1e-5
    scales: int = 1
    coarse_iterations: int | None = None
    style_loss: str = "gram"
    mrf_weight: float = MRF_WEIGHT
    mrf_layers: dict[str, float] = field(default_factory=lambda: {"relu3_1": 1.0, "relu4_1": 1.0})
    map_weight: float = 10.0
    margin: int = MARGIN

    @property
    def iterations_per_scale(self) -> list[int]:
        """Iterations at each scale, coarsest first.

        >>> GatysOptions(iterations=100, scales=3, coarse_iterations=50).iterations_per_scale
        [50, 50, 100]
        >>> GatysOptions(iterations=500, scales=3).iterations_per_scale
        [100, 100, 500]
        """
        return [self.coarse_budget] * (self.scales - 1) + [self.iterations]

    @property
    def coarse_budget(self) -> int:
        """Iterations at each coarser scale: ``coarse_iterations``, or a fifth of ``iterations`` (rounded up) when unset."""
        return -(-self.iterations // COARSE_SHARE) if self.coarse_iterations is None else self.coarse_iterations

    @property
    def start(self) -> str:
        """The starting picture, one of :data:`INITS`: ``init``, or by default the content, and for style swap the
        style pixels it matched (on 8 unseen painting and photo pairs its pictures carried more of the painting;
        docs/benchmarks.md, "Does style swap paint an unseen painting?").

        >>> GatysOptions().start, GatysOptions(style_loss="swap").start, GatysOptions(init="noise", style_loss="swap").start
        ('content', 'matched', 'noise')
        """
        return self.init or ("matched" if self.style_loss == "swap" else "content")

    @property
    def patience(self) -> int:
        """Evaluations without improvement before the early stop: 5, or twice the MRF loss's rematch interval
        (a new matching raises the loss for a few evaluations; with 5, runs stopped after 25 of 100 iterations)."""
        from .losses.perceptual import MRF_REMATCH

        return 2 * MRF_REMATCH if "mrf" in self.style_loss else 5

    def check(self, picture_options: PictureOptions | None = None) -> GatysOptions:
        """Validate (naming the parameter); returns self. With ``picture_options``, those too, and what the two
        allow together (tiles need the Gram style loss)."""
        if self.iterations < 0:
            raise VideostyleError(f"iterations must be >= 0, got {self.iterations}", parameter="iterations")
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.init is not None:
            check_choice("init", self.init, INITS)
        if self.start == "matched" and self.style_loss != "swap":
            raise VideostyleError("init matched starts from a style swap's matched pixels: it needs method style-swap", parameter="init")
        if self.scales < 1:
            raise VideostyleError(f"scales must be >= 1, got {self.scales}", parameter="scales")
        if self.margin < 0:
            raise VideostyleError(f"margin must be >= 0 pixels, got {self.margin}", parameter="margin")
        if self.coarse_iterations is not None and self.coarse_iterations < 0:
            raise VideostyleError(f"coarse_iterations must be >= 0, got {self.coarse_iterations}", parameter="coarse_iterations")
        check_positive("style_scale", self.style_scale)
        check_choice("style_loss", self.style_loss, STYLE_LOSSES)
        if picture_options is not None:
            picture_options.check()
            if picture_options.tile is not None and self.style_loss != "gram":
                raise VideostyleError(
                    f"tile works with the Gram style loss; style loss {self.style_loss} matches patches over the whole picture", parameter="tile"
                )
        for name in ("content_weight", "style_weight", "tv_weight", "tolerance", "mrf_weight", "map_weight"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if self.learning_rate is not None:
            check_positive("learning_rate", self.learning_rate)
        for layers in (self.content_layers, self.style_layers, self.mrf_layers):
            for weight in layers.values():
                check_positive("layer weight", weight, allow_zero=True)
        return self


FRAME_INITS = ("warped", "previous", "random")


@dataclass
class VideoOptions:
    """Options of the video method on top of the image options (:class:`GatysOptions`; the frames' size, style mix
    and colour are :class:`PictureOptions`).

    ``iterations`` (in ``image``) apply to every frame after the first, which gets
    ``first_iterations``. ``independent=True`` is the per-frame baseline: no temporal loss and
    a fresh start (``image.init``) with ``first_iterations`` for every frame.

    Multi-pass (Ruder et al., section 3.3): with ``passes`` > 1, the single pass above is pass
    1; passes 2, 3, ... run backward, forward, ... over the clip with ``pass_iterations`` per
    frame, each frame starting from its previous result blended (``pass_blend`` = delta) with
    the warped neighbour, with the temporal loss from pass ``temporal_from_pass`` on.
    """

    image: GatysOptions = field(default_factory=lambda: GatysOptions(iterations=150))
    first_iterations: int = 500
    temporal_weight: float = 2e5
    long_term: list[int] = field(default_factory=lambda: [1])
    frame_init: str = "warped"
    independent: bool = False
    passes: int = 1
    pass_iterations: int = 50
    pass_blend: float = 0.5
    temporal_from_pass: int = 2
    flow: str = "deepflow"
    flow_dir: str | None = None

    def check(self, picture_options: PictureOptions | None = None) -> VideoOptions:
        """Validate (naming the parameter); returns self. ``picture_options``: as for :meth:`GatysOptions.check`."""
        from .flow.estimators import ESTIMATORS

        self.image.check(picture_options)
        check_choice("frame_init", self.frame_init, FRAME_INITS)
        check_choice("flow", self.flow, tuple(ESTIMATORS))
        if not self.long_term or any(gap < 1 for gap in self.long_term):
            raise VideostyleError(f"long_term frame gaps must be positive integers, got {self.long_term}", parameter="long_term")
        check_positive("temporal_weight", self.temporal_weight, allow_zero=True)
        check_range("pass_blend", self.pass_blend, 0, 1)
        for name, least in (("passes", 1), ("pass_iterations", 0), ("first_iterations", 0), ("temporal_from_pass", 1)):
            if getattr(self, name) < least:
                raise VideostyleError(f"{name} must be >= {least}, got {getattr(self, name)}", parameter=name)
        if self.passes > 1 and self.independent:
            raise VideostyleError("the independent baseline is single-pass: passes and independent exclude each other", parameter="independent")
        self.long_term = sorted(set(self.long_term))
        return self


#: Starting points by name (anything else is a model name or file).
STARTS = ("any-style", "meta", "scratch")
#: The kinds of model a start can name: a single-style network (its weights) or an any-style network (its prediction).
START_KINDS = ("transformer", "arbitrary_video")
#: The smallest training crop (the trainers' own lower bound).
MIN_TRAINING_SIZE = 16


@dataclass
class AdaptOptions:
    """How a style is adapted (all part of the cache key). ``steps``: training steps (2 frame pairs
    each); ``minutes``: a wall-time limit that ends the training early (None: none); ``start``: where the
    training starts (module docstring); ``any_style_model``: the any-style network ``start="any-style"`` reads; ``with_photos``:
    a clip's frame pairs are mixed half and half with scenes generated from the shipped photos."""

    start: str = "any-style"
    steps: int = 300
    minutes: float | None = None
    size: int = 128
    learning_rate: float = 1e-3
    style_weight: float = 3.0
    any_style_model: str = "arbitrary_video_corpus"
    seed: int = 0
    with_photos: bool = False

    def check(self, prefix: str = "") -> AdaptOptions:
        """Validate; errors name ``prefix + field`` (the spec passes ``"adaptation."``)."""
        check_positive(prefix + "steps", self.steps)
        if self.minutes is not None:
            check_positive(prefix + "minutes", self.minutes)
        check_positive(prefix + "size", self.size)
        if self.size < MIN_TRAINING_SIZE:
            raise VideostyleError(f"{prefix}size must be at least {MIN_TRAINING_SIZE} pixels, got {self.size}", parameter=prefix + "size")
        check_positive(prefix + "learning_rate", self.learning_rate)
        check_positive(prefix + "style_weight", self.style_weight)
        if self.start not in STARTS:
            from .models.files import model_kind

            try:
                kind = model_kind(self.start)
            except VideostyleError as error:
                raise VideostyleError(f"{prefix}start must be one of {', '.join(STARTS)} or a model: {error}", parameter=prefix + "start") from None
            if kind not in START_KINDS:
                raise VideostyleError(
                    f"{prefix}start {self.start} is a model of kind {kind}; adaptation starts from a single-style network or an any-style video network",
                    parameter=prefix + "start",
                )
        return self
