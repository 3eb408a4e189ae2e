"""Options shared by several commands, their parsing, and the method spec of ``image`` and ``video``."""

from __future__ import annotations

import functools

import click

from ..checks import check_range
from ..errors import VideostyleError


def parse_weighted(text: str, separator: str, flag: str, what: str) -> dict[str, float]:
    """``"a,b<sep>0.5"`` -> ``{"a": 1.0, "b": 0.5}`` (a name alone weighs 1)."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, weight = item.partition(separator)
        try:
            weights[name] = float(weight) if sep else 1.0
        except ValueError:
            raise VideostyleError(f"bad {flag} weight in {item!r}: expected {what}") from None
    if not weights:
        raise VideostyleError(f"no names in {flag} {text!r}")
    return weights


def parse_layers(text: str) -> dict[str, float]:
    """``"relu1_1,relu2_1:0.5"`` -> ``{"relu1_1": 1.0, "relu2_1": 0.5}``."""
    return parse_weighted(text, ":", "layer", "NAME or NAME:WEIGHT")


def parse_style_mix(text: str | None) -> dict[str, float] | None:
    """``"starry_night=0.7,graffiti=0.3"`` -> ``{"starry_night": 0.7, "graffiti": 0.3}``."""
    return None if text is None else parse_weighted(text, "=", "--style-mix", "NAME=WEIGHT")


def short_term_name(name: str) -> str:
    """``style.relu1_1`` -> ``s1_1``, ``content.relu4_2`` -> ``c4_2`` for compact progress bars."""
    kind, _, layer = name.partition(".")
    return f"{kind[0]}{layer.removeprefix('relu')}" if layer else name


def format_terms(terms: dict[str, float]) -> str:
    groups: dict[str, float] = {}
    for name, value in terms.items():
        group = name.split(".")[0]
        groups[group] = groups.get(group, 0.0) + value
    return " + ".join(f"{group} {value:.4g}" for group, value in groups.items())


#: The optical flow estimators (``videostyle.flow.ESTIMATORS``, named here so that the command line starts without OpenCV).
FLOW_ESTIMATORS = ("dis", "deepflow", "tvl1", "farneback")


def flow_option(default: str = "dis", help: str = "Optical flow estimator."):
    """``--flow``: one of :data:`FLOW_ESTIMATORS`."""
    return choice_option("--flow", (default, *(name for name in FLOW_ESTIMATORS if name != default)), default, help)


#: ``--device``, on every command that runs a network.
device_option = click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")


def quiet_option(help: str = "No progress bar or summary."):
    """``-q/--quiet``."""
    return click.option("-q", "--quiet", is_flag=True, help=help)


def output_option(help: str):
    """``-o/--output``, a path every command that writes needs."""
    return click.option("-o", "--output", required=True, type=click.Path(), help=help)


def path_option(*names: str, help: str, **settings):
    """A flag that takes a path (``settings``: ``required``, ``multiple``, ``default``)."""
    return click.option(*names, type=click.Path(), help=help, **settings)


def styles_option(help: str):
    """``-s/--style``, repeatable, into the parameter ``styles``."""
    return click.option("-s", "--style", "styles", multiple=True, type=click.Path(), help=help)


def choice_option(flag: str, choices, default: str | None, help: str):
    """A flag that takes one of ``choices``; its default shown in the help when there is one."""
    return click.option(flag, type=click.Choice(list(choices)), default=default, show_default=default is not None, help=help)


def number_option(flag: str, default: float, help: str, kind: type = float):
    """A number flag with its default shown in the help."""
    return click.option(flag, type=kind, default=default, show_default=True, help=help)


def report_notes(notes, line: str | None = None) -> None:
    """A finished run's notes for the user, one ``note:`` line each, then its summary ``line``, on stderr."""
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if line is not None:
        click.echo(line, err=True)


def encoder_options(function):
    """Options that choose the perceptual encoder, shared by every optimisation command."""

    @click.option(
        "--vgg-weights",
        type=click.Path(dir_okay=False),
        help="Use this VGG state dict (torchvision layout, .pth or .safetensors) instead of the bundled ImageNet VGG-16.",
    )
    @click.option("--vgg-arch", type=click.Choice(["vgg16", "vgg19"]), default="vgg16", show_default=True, help="Architecture of --vgg-weights.")
    @click.option(
        "--vgg-input",
        type=click.Choice(["torch", "caffe"]),
        default=None,
        help="Input convention of --vgg-weights: torchvision's (default for files) or Caffe BGR 0-255.",
    )
    @click.option("--pooling", type=click.Choice(["max", "avg"]), default="max", show_default=True, help="Pooling in the encoder (Gatys et al. suggest avg).")
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


def stacked(options: list):
    """One decorator applying click ``options`` in the order listed (the first is shown first in ``--help``)."""

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def run_folder_options(kept: str, applies: str = ""):
    """``--restart`` (also ``--no-resume``, the flag a refused resume names) and ``--keep-frames`` of a command whose
    runs resume from a run folder; ``kept``: what the folder holds; ``applies``: a prefix saying when they apply."""

    def sentence(text: str) -> str:
        return applies + text[0].lower() + text[1:] if applies else text

    return stacked(
        [
            click.option(
                "--restart", "--no-resume", "restart", is_flag=True, help=sentence("Discard an interrupted run of the same output instead of resuming it.")
            ),
            click.option("--keep-frames", is_flag=True, help=sentence(f"Keep the run folder ({kept}) after success.")),
        ]
    )


def run_settings(restart: bool, keep_frames: bool):
    """The :class:`~videostyle.pipeline.RunSettings` of :func:`run_folder_options`' flags."""
    from ..pipeline import RunSettings

    return RunSettings(resume=False if restart else None, keep_frames=keep_frames)


def gatys_options(size: int, iterations: int):
    """Options of the optimisation method shared by ``image`` and ``video`` (defaults differ)."""
    from ..options import INITS, MARGIN, MRF_WEIGHT

    options = [
        click.option("--style-blend", multiple=True, type=float, help="Blend weight of each --style, in the same order (default: equal)."),
        click.option("--size", type=int, default=size, show_default=True, help="Long side of the output in pixels (0: the input's own size)."),
        click.option(
            "--iterations", type=int, default=iterations, show_default=True, help="Iterations (per scale for images; per frame after the first for video)."
        ),
        click.option("--content-weight", type=float, default=1.0, show_default=True),
        click.option("--style-weight", type=float, default=50.0, show_default=True, help="Weight of the style loss (relative to the content loss)."),
        click.option("--tv-weight", type=float, default=1e4, show_default=True, help="Weight of the total-variation smoothness loss."),
        click.option("--content-layers", default="relu4_2", show_default=True, help="Comma-separated encoder layers, each optionally NAME:WEIGHT."),
        click.option(
            "--style-layers",
            default="relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
            show_default=True,
            help="Comma-separated encoder layers, each optionally NAME:WEIGHT.",
        ),
        choice_option(
            "--style-loss",
            ["gram", "mrf", "gram+mrf"],
            "gram",
            "gram: Gram matrices (Gatys et al.); mrf: each 3x3 feature patch pulled to its nearest style patch (Li and Wand 2016); or both.",
        ),
        click.option("--mrf-weight", type=float, default=MRF_WEIGHT, show_default=True, help="Weight of the MRF loss (with --style-loss mrf or gram+mrf)."),
        click.option(
            "--mrf-layers", default="relu3_1,relu4_1", show_default=True, help="Comma-separated encoder layers of the MRF loss, each optionally NAME:WEIGHT."
        ),
        click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default="lbfgs", show_default=True),
        click.option("--lr", "learning_rate", type=float, default=None, help="Step size (default 1 for L-BFGS, 0.02 for Adam)."),
        click.option(
            "--init",
            type=click.Choice(list(INITS)),
            default=None,
            help="Starting image (default: content; for style-swap, matched: the style pixels it matched to the content).",
        ),
        click.option(
            "--preserve-color",
            type=click.Choice(["none", "luminance", "histogram"]),
            default="none",
            show_default=True,
            help="Keep the content's colours (Gatys et al. 2016).",
        ),
        click.option(
            "--color-method",
            type=click.Choice(["cholesky", "symmetric"]),
            default="cholesky",
            show_default=True,
            help="Linear map for --preserve-color histogram.",
        ),
        click.option("--style-scale", type=float, default=1.0, show_default=True, help="Style image size relative to the output's long side."),
        click.option(
            "--margin",
            type=int,
            default=MARGIN,
            show_default=True,
            help="Pixels of mirrored picture optimised around the picture and cropped off: keeps the dark edge and light band "
            "the style loss draws along a border out of the picture (0: none).",
        ),
        click.option(
            "--tolerance",
            type=float,
            default=1e-5,
            show_default=True,
            help="Stop early when 5 iterations in a row improve the best loss by less than this, relative (0: never).",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--tile",
            type=int,
            default=None,
            help="Process pictures longer than this many pixels in tiles, memory bounded by the tile: optimisation with the Gram loss "
            "(the same objective, whole-picture Grams) and the transformer networks (whole-picture normalisation statistics).",
        ),
        click.option(
            "--max-memory",
            default=None,
            help="Memory a picture or frame may take on the CPU with a transformer network, over what the process holds, e.g. 2GiB, "
            "1500MiB [default: 2GiB]; a bigger one runs in tiles (a picture streamed from its 8-bit form), and a note says so.",
        ),
        click.option(
            "--exact-statistics",
            is_flag=True,
            help="Tiles of a transformer network normalised with the whole picture's own statistics, computed in passes over "
            "windows: one pass's picture in a tile's memory, at several times the time. Without it, the statistics of the "
            "picture downscaled to 2048 px.",
        ),
        device_option,
        quiet_option(),
    ]

    return stacked(options)


def model_options(function):
    """Options of the feed-forward method (``--model``), shared by ``image`` and ``video``."""
    from ..options import PRECISIONS, RUNTIMES

    options = [
        click.option(
            "-m",
            "--model",
            default=None,
            help="A trained feed-forward model: a bundled name (see 'videostyle models') or a .safetensors file. Replaces optimisation.",
        ),
        click.option("--style-mix", default=None, help="Multi-style model: NAME=WEIGHT,... (weights normalised; default: equal)."),
        click.option("--strength", type=float, default=1.0, show_default=True, help="Model output blended with the input: 1 is the full style, 0 the input."),
        choice_option("--runtime", RUNTIMES, "onnx", "Model inference engine on the CPU (onnxruntime is faster there; torch is used on GPUs)."),
        choice_option(
            "--precision",
            PRECISIONS,
            "float32",
            "The network's arithmetic (feedforward, reconet, arbitrary-video, adapt; in PyTorch: --runtime torch on the CPU).",
        ),
        click.option("--batch-size", type=int, default=4, show_default=True, help="Frames per model call."),
        click.option(
            "--alpha",
            type=float,
            default=1.0,
            show_default=True,
            help="adain: content-style trade-off in feature space; arbitrary-video: blend with the input (1: full style).",
        ),
        click.option(
            "--mask",
            type=click.Path(dir_okay=False),
            default=None,
            help="adain, arbitrary-video: a mask image for two --style images (white: the first style, black: the second).",
        ),
    ]

    return stacked(options)(function)


def adapt_options(function):
    """Options of method adapt (``--adapt-steps``, ``--adapt-minutes``, ``--adapt-start``), shared by ``image`` and ``video``."""
    from ..options import AdaptOptions

    options = [
        click.option("--adapt-steps", type=int, default=AdaptOptions.steps, show_default=True, help="adapt: training steps of the adaptation."),
        click.option("--adapt-minutes", type=float, default=None, help="adapt: end the adaptation after this many minutes (default: no limit)."),
        click.option(
            "--adapt-start",
            default=AdaptOptions.start,
            show_default=True,
            help="adapt: start from any-style (the any-style network's prediction), meta (the bundled Reptile start), scratch, or a model (an any-style one such as arbitrary_video_lean: its prediction, in its faster architecture).",
        ),
    ]
    return stacked(options)(function)


def build_spec(method, styles, params: dict, video: bool):
    """The method spec of an ``image`` or ``video`` command from its parsed options (consumed from ``params``)."""
    from ..checks import parse_memory
    from ..options import AdaptOptions, GatysOptions, VideoOptions
    from ..spec import EncoderSpec, MethodSpec

    take = params.pop
    if method is None:  # a model names its method by its kind; without one, styles mean optimisation
        from ..spec import method_for_model

        method = method_for_model(params["model"]) if params["model"] else "optimize"
    image = GatysOptions(
        iterations=take("iterations"),
        content_weight=take("content_weight"),
        style_weight=take("style_weight"),
        tv_weight=take("tv_weight"),
        content_layers=parse_layers(take("content_layers")),
        style_layers=parse_layers(take("style_layers")),
        optimizer=take("optimizer"),
        learning_rate=take("learning_rate"),
        init=take("init"),
        seed=take("seed"),
        tolerance=take("tolerance"),
        style_scale=take("style_scale"),
        margin=take("margin"),
        scales=take("scales", 1),
        coarse_iterations=take("coarse_iterations", None),
        style_loss=take("style_loss"),
        mrf_weight=take("mrf_weight"),
        mrf_layers=parse_layers(take("mrf_layers")),
    )
    optimization = VideoOptions(image=image)
    if video:
        flags = ("first_iterations", "temporal_weight", "frame_init", "independent", "passes", "pass_iterations", "pass_blend", "temporal_from_pass", "flow")
        optimization = VideoOptions(image=image, long_term=parse_gaps(take("long_term")), flow_dir=take("flow_dir"), **{name: take(name) for name in flags})
    size = take("size")
    if size < 0:
        raise VideostyleError(f"size must be positive, or 0 to keep the input's dimensions; got {size}", parameter="size")
    style_blend = list(take("style_blend")) or None
    if style_blend is not None and len(style_blend) != len(styles):
        raise VideostyleError(f"{len(styles)} --style images but {len(style_blend)} --style-blend weights")
    strength, alpha = blend_flags(method, take("alpha"), take("strength"))
    return MethodSpec(
        method=method,
        styles=list(styles),
        style_weights=style_blend,
        size=size or None,
        preserve_color=take("preserve_color"),
        color_method=take("color_method"),
        model=take("model"),
        model_style_weights=parse_style_mix(take("style_mix")),
        strength=strength,
        alpha=alpha,
        mask=take("mask"),
        runtime=take("runtime"),
        precision=take("precision"),
        batch_size=take("batch_size"),
        optimization=optimization,
        encoder=EncoderSpec(take("vgg_weights"), take("vgg_arch"), take("vgg_input"), take("pooling")),
        adaptation=AdaptOptions(start=take("adapt_start"), steps=take("adapt_steps"), minutes=take("adapt_minutes")),
        tile=take("tile"),
        face_box=parse_face_box(take("face_box", None)),
        max_memory=None if (memory := take("max_memory", None)) is None else parse_memory("max_memory", memory),
        exact_statistics=take("exact_statistics", False),
    ).check()


def blend_flags(method: str, alpha: float, strength: float) -> tuple[float, float]:
    """The spec's ``(strength, alpha)`` from the flags: arbitrary-video's ``--alpha`` is its output blend, which the
    spec calls strength; ``--strength`` says the same there, so either may be given (both only if they agree), and
    an error names the one given."""
    if method != "arbitrary-video":
        return strength, alpha
    if alpha != 1.0 and strength != 1.0 and alpha != strength:
        raise VideostyleError(f"--alpha and --strength are the same blend for method arbitrary-video: give one (got {alpha} and {strength})")
    return check_range("alpha" if alpha != 1.0 else "strength", alpha if alpha != 1.0 else strength, 0, 1), 1.0


def parse_face_box(text: str | None) -> list[int] | None:
    """``"120,80,200,240"`` -> ``[120, 80, 200, 240]`` (LEFT,TOP,WIDTH,HEIGHT)."""
    if text is None:
        return None
    try:
        return [int(value) for value in text.split(",")]
    except ValueError:
        raise VideostyleError(f"--face-box is LEFT,TOP,WIDTH,HEIGHT in whole pixels, got {text!r}", parameter="face_box") from None


def parse_gaps(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise VideostyleError(f"--long-term takes comma-separated integers, got {text!r}") from None


def ray_options(chunks: bool):
    """The ``--ray`` options of ``image`` (items spread over a cluster) and ``video`` (frames, or chunks with ``chunks``)."""
    what = "the frames of a one-pass method, or chunks of an optimisation run," if chunks else "the pictures"
    options = [
        click.option(
            "--ray",
            "ray_address",
            is_flag=False,
            flag_value="local",
            default=None,
            metavar="[ADDRESS]",
            help=f"Spread {what} over Ray workers: alone, a Ray instance on this machine; auto or HOST:PORT joins a cluster (extra videostyle[ray]).",
        ),
        click.option("--ray-workers", type=int, default=2, show_default=True, help="Ray workers (each loads the model once)."),
        click.option("--ray-cpus-per-worker", type=float, default=1.0, show_default=True, help="CPUs each Ray worker reserves."),
    ]
    if chunks:
        options += [
            click.option(
                "--ray-chunk-frames", type=int, default=36, show_default=True, help="Optimisation on Ray: frames per chunk (each chunk runs on one worker)."
            ),
            click.option(
                "--ray-chunk-overlap",
                type=int,
                default=None,
                help="Optimisation on Ray: frames two chunks share and cross-fade [default: 12, or the longest --long-term gap].",
            ),
        ]
    return stacked(options)


def ray_settings(params: dict):
    """The :class:`~videostyle.distributed.ray_runner.RaySettings` of the ``--ray`` options (consumed from ``params``), or None without ``--ray``."""
    address, workers, cpus = params.pop("ray_address"), params.pop("ray_workers"), params.pop("ray_cpus_per_worker")
    chunks = {"chunk_frames": params.pop("ray_chunk_frames", 36), "chunk_overlap": params.pop("ray_chunk_overlap", None)}
    if address is None:
        return None
    from ..distributed.ray_runner import RaySettings

    return RaySettings(address, workers, cpus, **chunks).check()


METHOD_HELP = (
    "optimize: {optimize} (default with --style); feedforward, reconet, adain, arbitrary-video: one network pass{per} "
    "(default with --model: the method of the model's kind); "
    "adapt: a fast network adapted to the --style first (minutes, cached), then one pass{per}; "
    "style-swap: each 3x3 relu3_1 patch swapped for the best-matching style patch (Chen and Schmidt 2016), decoded by optimisation from the style pixels it matched, with Gram terms on relu1_1 and relu2_1 for the painting's colours and fine strokes{per}; "
    "faces (image): a portrait painted from several painted portraits (-s each), each face region from the exemplar that fits it (after Song et al. 2017)."
)
