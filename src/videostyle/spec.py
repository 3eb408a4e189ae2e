"""One serialisable description of a method and its options: :class:`MethodSpec`.

The command line, the Python API, the benchmarks (and the web page and the Ray runner) build
a spec once and hand it whole to :func:`videostyle.api.stylize` or
:func:`videostyle.pipeline.stylize_video`; ``to_dict``/``from_dict`` carry it across a process
boundary as JSON, and :meth:`MethodSpec.describe` is the resume key of a video run.

>>> spec = MethodSpec(method="feedforward", model="starry_night", strength=0.8)
>>> MethodSpec.from_dict(spec.to_dict()) == spec
True
>>> MethodSpec(method="adain").check()
Traceback (most recent call last):
...
videostyle.errors.VideostyleError: method adain needs at least one image in styles
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace

from .checks import check_choice, check_mask_styles, check_positive, check_range, check_style_weights
from .errors import VideostyleError
from .options import PRECISIONS, RUNTIMES, AdaptOptions, GatysOptions, PictureOptions, VideoOptions
from .registry import METHODS as REGISTRY
from .registry import Method, method_for_kind, method_record

#: A fast network adapted to the style first (cached), then one pass per frame: see :mod:`videostyle.training.adapt`.
ADAPT_METHOD = "adapt"
#: Style swap (Chen and Schmidt 2016): the content's relu3_1 patches swapped for the style's, decoded by optimisation
#: (the optimisation method with the swapped features as its only target, ``GatysOptions.style_loss = "swap"``; in
#: video with Ruder's temporal terms), or with ``model`` (a ``swap_decoder``, e.g. the bundled one) in one pass.
STYLE_SWAP_METHOD = "style-swap"
#: A portrait painted from several painted portraits (after Song et al. 2017): each region of the face takes its
#: patches from the exemplar that fits it best (:mod:`videostyle.faces`); images only, by optimisation (the MRF loss).
FACES_METHOD = "faces"


@dataclass(frozen=True)
class EncoderSpec:
    """The perceptual encoder: the bundled ImageNet VGG-16 (``weights=None``), or a user's VGG state dict."""

    weights: str | None = None
    arch: str = "vgg16"
    input_convention: str | None = None
    pooling: str = "max"

    def load(self, device):
        from .features import load_encoder

        return load_encoder(weights=self.weights, arch=self.arch, input_convention=self.input_convention, pooling=self.pooling, device=device)


def method_for_model(model: str | os.PathLike) -> str:
    """The method that runs ``model`` (bundled name or path), from the kind its file names."""
    from .models import describe_kind
    from .models.files import model_kind

    kind = model_kind(model)
    method = method_for_kind(kind)
    if method is None:
        raise VideostyleError(f"model {model} is {describe_kind(kind)}, not a network to stylize with", parameter="model")
    return method


@dataclass
class MethodSpec:
    """A method and every option that changes its result; paths, not pixels, so it serialises.

    ``styles``: style image paths, mixed by ``style_weights`` (None: equal). ``size``: long side
    of the output in pixels (None: the input's). ``preserve_color``/``color_method``: Gatys et
    al. 2016's colour control. One-pass methods: ``model`` (bundled name or file; None: the
    method's bundled default), ``model_style_weights`` (``{style name: weight}`` of a multi-style
    model), ``strength`` (the output blended with the input: 1 is the full style), ``alpha``
    (AdaIN's content-style trade-off in feature space), ``mask`` (an image splitting the frame
    between two styles), ``runtime``, ``precision`` (the network's arithmetic: float32, bfloat16 or float16) and ``batch_size``. ``optimization``: the optimisation
    method's options (for images only ``optimization.image`` applies). ``encoder``: the perceptual encoder.
    ``adaptation``: how method ``adapt`` makes its network (one style image). ``tile``: pictures longer
    than this many pixels are processed in tiles (None: whole), by the networks of the methods whose record says ``tiles``
    (:func:`~videostyle.methods.feedforward.tiled_stylize`) and by optimisation with the Gram style loss
    (:class:`~videostyle.losses.tiled.TiledPerceptualLoss`), so that memory is bounded by the tile.
    ``face_box``: method faces, the content's face ``[left, top, width, height]`` in its own pixels (None: detected).
    ``max_memory``: bytes a picture's pass through those networks may take on the CPU (None: 2 GiB); a bigger one
    runs in tiles. ``exact_statistics``: their tiles normalised with the whole picture's own statistics
    (:func:`~videostyle.models.window_statistics.window_statistics`) instead of the picture's downscaled to 2048 px.
    """

    method: str = "optimize"
    styles: list[str] = field(default_factory=list)
    style_weights: list[float] | None = None
    size: int | None = None
    preserve_color: str = "none"
    color_method: str = "cholesky"
    model: str | None = None
    model_style_weights: dict[str, float] | None = None
    strength: float = 1.0
    alpha: float = 1.0
    mask: str | None = None
    runtime: str = "onnx"
    precision: str = "float32"
    batch_size: int = 4
    optimization: VideoOptions = field(default_factory=VideoOptions)
    encoder: EncoderSpec = field(default_factory=EncoderSpec)
    adaptation: AdaptOptions = field(default_factory=AdaptOptions)
    tile: int | None = None
    face_box: list[int] | None = None
    max_memory: int | None = None
    exact_statistics: bool = False

    def picture_options(self) -> PictureOptions:
        """The spec's :class:`~videostyle.options.PictureOptions`: its size, style mix, colour control and tile."""
        return PictureOptions(self.size, self.style_weights, self.preserve_color, self.color_method, self.tile)

    def check(self, style_count: int | None = None) -> MethodSpec:
        """Validate every option (naming the parameter); returns self. ``style_count``: the number of
        style images when the caller holds them in memory instead of naming them in ``styles``."""
        styles = len(self.styles) if style_count is None else style_count
        record = method_record(self.method)
        self.picture_options().check()
        check_range("strength", self.strength, 0, 1)
        check_range("alpha", self.alpha, 0, 1)
        check_choice("runtime", self.runtime, RUNTIMES)
        check_choice("precision", self.precision, PRECISIONS)
        if self.precision != "float32" and not record.precision:
            raise VideostyleError(f"precision applies to methods {_methods_with('precision')}, not {self.method}", parameter="precision")
        check_positive("batch_size", self.batch_size)
        check_style_weights(self.style_weights, styles)
        if self.tile is not None and self.one_pass and not record.tiles:
            raise VideostyleError(f"tile works with methods {_methods_with('tiles')} and optimisation, not {self.method} with a network", parameter="tile")
        if self.max_memory is not None:
            check_positive("max_memory", self.max_memory)
            if not self.one_pass or not record.tiles:
                raise VideostyleError(f"max_memory works with methods {_methods_with('tiles')}, not {self.method}", parameter="max_memory")
        if self.exact_statistics and (not self.one_pass or not record.tiles):
            raise VideostyleError(f"exact_statistics works with methods {_methods_with('tiles')}, not {self.method}", parameter="exact_statistics")
        self._check_styles(record, styles)
        self._check_method_options(record)
        if self.model is not None and record.model_kind is not None:
            from .models import describe_kind
            from .models.files import model_kind

            kind = model_kind(self.model)
            if kind != record.model_kind:
                runs_it = method_for_kind(kind)
                raise VideostyleError(
                    f"model {self.model} is {describe_kind(kind)} for method {runs_it}, not for method {self.method}; give method {runs_it}, or no method",
                    parameter="method",
                )
        if record.optimises and not self.one_pass:
            if self.model is not None:
                networks = [name for name, other in REGISTRY.items() if other.one_pass and other.model_kind is not None]
                raise VideostyleError(f"model needs a one-pass method ({', '.join(networks[:-1])} or {networks[-1]})", parameter="model")
            self.video_options()  # checks the optimisation options
        return self

    def _check_styles(self, record: Method, styles: int) -> None:
        """The style images, the model's own styles and the mask against what the method takes."""
        if record.styles == "none":
            if styles:
                raise VideostyleError(f"styles and method {self.method} exclude each other: a trained model carries its own style", parameter="styles")
        else:
            if not styles:
                raise VideostyleError(f"method {self.method} needs at least one image in styles", parameter="styles")
            if self.model_style_weights is not None:
                raise VideostyleError(
                    "model_style_weights picks the styles of a multi-style model; weigh style images with style_weights", parameter="model_style_weights"
                )
            if record.styles == "one" and styles != 1:
                raise VideostyleError(f"method {self.method} makes a network for one image in styles, got {styles}", parameter="styles")
        if self.mask is not None:
            if not record.mask:
                raise VideostyleError(f"mask needs two style images (method {_methods_with('mask', ' or ')}), not method {self.method}", parameter="mask")
            check_mask_styles(styles)

    def _check_method_options(self, record: Method) -> None:
        """The options only some methods take: adaptation, style swap's and faces' style loss, the face box."""
        if self.method == ADAPT_METHOD:
            if self.model is not None:
                raise VideostyleError("model does not apply to method adapt (it makes its own single-style network)", parameter="model")
            self.adaptation.check(prefix="adaptation.")
        if self.method == STYLE_SWAP_METHOD and self.optimization.image.style_loss not in ("gram", "swap"):
            raise VideostyleError("style_loss does not apply to method style-swap (it has no style term of its own)", parameter="style_loss")
        if self.method == FACES_METHOD:
            for name in ("model", "tile"):
                if getattr(self, name) is not None:
                    raise VideostyleError(f"{name} does not apply to method faces", parameter=name)
            if self.optimization.image.style_loss not in ("gram", "mrf", "gram+mrf") or self.optimization.image.scales != 1:
                raise VideostyleError("method faces paints at one scale with the MRF loss", parameter="scales")
        if self.face_box is not None:
            if self.method != FACES_METHOD:
                raise VideostyleError("face_box is for method faces", parameter="face_box")
            if len(self.face_box) != 4 or any(not isinstance(v, int) or v < 0 for v in self.face_box) or min(self.face_box[2:]) < 1:
                raise VideostyleError(
                    f"face_box is LEFT,TOP,WIDTH,HEIGHT in pixels (whole numbers, width and height >= 1), got {self.face_box}", parameter="face_box"
                )

    @property
    def one_pass(self) -> bool:
        """Whether frames go through a network in one pass (method adapt too, once adapted; style swap with a model)."""
        record = REGISTRY.get(self.method)
        return record is not None and record.runs_one_pass(with_model=self.model is not None)

    @property
    def model_or_default(self) -> str:
        if self.method == ADAPT_METHOD:
            raise VideostyleError("method adapt has no model until adapted: see videostyle.training.adapt.adapted_spec")
        if self.model is not None:
            return self.model
        default = method_record(self.method).default_model
        if default is None:
            raise VideostyleError(f"method {self.method} runs no network", parameter="method")
        return default

    def image_options(self) -> GatysOptions:
        """The Gatys options of this spec, checked with its :meth:`picture_options`: ``optimization.image``, with
        the style loss of methods faces (MRF unless given) and style-swap (the swap)."""
        image = self.optimization.image
        if self.method == FACES_METHOD and image.style_loss == "gram":
            image = replace(image, style_loss="mrf")
        return (replace(image, style_loss="swap") if self.method == STYLE_SWAP_METHOD else image).check(self.picture_options())

    def video_options(self) -> VideoOptions:
        """The Ruder options of this spec, checked."""
        return replace(self.optimization, image=self.image_options()).check(self.picture_options())

    def to_dict(self) -> dict:
        """JSON-able: the fields, with the options dataclasses as dicts."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MethodSpec:
        """The inverse of :meth:`to_dict`; unknown keys are an error (a newer videostyle's spec?)."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise VideostyleError(f"unknown method spec field {unknown[0]!r}")
        values = dict(data)
        if "optimization" in values:
            optimization = dict(values["optimization"])
            image = dict(optimization.get("image", {}))
            optimization["image"] = GatysOptions(**image)
            values["optimization"] = VideoOptions(**optimization)
        if "encoder" in values:
            values["encoder"] = EncoderSpec(**values["encoder"])
        if "adaptation" in values:
            values["adaptation"] = AdaptOptions(**values["adaptation"])
        try:
            return cls(**values)
        except TypeError as error:
            raise VideostyleError(f"malformed method spec: {error}") from None

    def describe(self) -> dict:
        """The resume key: :meth:`to_dict` with every input file (styles, mask, model) replaced by its fingerprint,
        so that a changed file restarts a run, and without what does not change the frames (``batch_size``)."""
        from .models import resolve_model_path
        from .runs import file_fingerprint

        data = self.to_dict()
        data.pop("batch_size")
        data.pop("max_memory")  # where tiles start: the same frames within a grey level
        data["styles"] = [file_fingerprint(path) for path in self.styles]
        data["mask"] = None if self.mask is None else file_fingerprint(self.mask)
        for name in ("tile", "face_box"):
            if data[name] is None:
                data.pop(name)  # runs started before these existed keep their key
        if data["precision"] == "float32":
            data.pop("precision")  # likewise
        if not data["exact_statistics"]:
            data.pop("exact_statistics")  # likewise
        image = data["optimization"]["image"]
        if image.get("init") is None and not self.one_pass:
            image["init"] = self.image_options().start  # the start used: runs begun when it was always named keep their key
        if image.get("scales", 1) > 1:
            # the budget used, not the setting: a run begun when an unset coarse_iterations meant the full iterations
            # there stops with an error naming coarse_iterations instead of resuming under another schedule
            image["coarse_iterations"] = self.optimization.image.coarse_budget
        else:
            image.pop("coarse_iterations", None)  # unused at one scale: runs started before it existed keep their key
        if self.one_pass:
            data["model"] = file_fingerprint(resolve_model_path(self.model_or_default))
            data.pop("optimization")
            data.pop("encoder")
        return data


def _methods_with(feature: str, separator: str = ", ") -> str:
    """The names of the methods whose record has ``feature`` (a true field of :class:`~videostyle.registry.Method`)."""
    return separator.join(name for name, record in REGISTRY.items() if getattr(record, feature))
