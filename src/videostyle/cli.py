"""The ``videostyle`` command: thin subcommands that parse, call the library and report.

Every user error ends as one line on stderr (``error: ...``) and a non-zero exit status;
set VIDEOSTYLE_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import warnings
from pathlib import Path

import click

from .errors import VideostyleError
from .spec import METHODS

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def parse_weighted(text: str | None, separator: str, flag: str, what: str) -> dict[str, float] | None:
    """``"a,b<sep>0.5"`` -> ``{"a": 1.0, "b": 0.5}`` (a name alone weighs 1); None stays None."""
    if text is None:
        return None
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


def parse_layers(text: str | None) -> dict[str, float] | None:
    """``"relu1_1,relu2_1:0.5"`` -> ``{"relu1_1": 1.0, "relu2_1": 0.5}``."""
    return parse_weighted(text, ":", "layer", "NAME or NAME:WEIGHT")


def parse_style_mix(text: str | None) -> dict[str, float] | None:
    """``"starry_night=0.7,graffiti=0.3"`` -> ``{"starry_night": 0.7, "graffiti": 0.3}``."""
    return parse_weighted(text, "=", "--style-mix", "NAME=WEIGHT")


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


def encoder_options(function):
    """Options that choose the perceptual encoder, shared by every optimisation command."""

    @click.option("--vgg-weights", type=click.Path(dir_okay=False), help="Use this VGG state dict (torchvision layout, .pth or .safetensors) instead of the bundled ImageNet VGG-16.")
    @click.option("--vgg-arch", type=click.Choice(["vgg16", "vgg19"]), default="vgg16", show_default=True, help="Architecture of --vgg-weights.")
    @click.option("--vgg-input", type=click.Choice(["torch", "caffe"]), default=None, help="Input convention of --vgg-weights: torchvision's (default for files) or Caffe BGR 0-255.")
    @click.option("--pooling", type=click.Choice(["max", "avg"]), default="max", show_default=True, help="Pooling in the encoder (Gatys et al. suggest avg).")
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


def gatys_options(size: int, iterations: int):
    """Options of the optimisation method shared by ``image`` and ``video`` (defaults differ)."""

    options = [
        click.option("--style-blend", multiple=True, type=float, help="Blend weight of each --style, in the same order (default: equal)."),
        click.option("--size", type=int, default=size, show_default=True, help="Long side of the output in pixels (0: the input's own size)."),
        click.option("--iterations", type=int, default=iterations, show_default=True, help="Iterations (per scale for images; per frame after the first for video)."),
        click.option("--content-weight", type=float, default=1.0, show_default=True),
        click.option("--style-weight", type=float, default=50.0, show_default=True, help="Weight of the style loss (relative to the content loss)."),
        click.option("--tv-weight", type=float, default=1e4, show_default=True, help="Weight of the total-variation smoothness loss."),
        click.option("--content-layers", default="relu4_2", show_default=True, help="Comma-separated encoder layers, each optionally NAME:WEIGHT."),
        click.option("--style-layers", default="relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", show_default=True, help="Comma-separated encoder layers, each optionally NAME:WEIGHT."),
        click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default="lbfgs", show_default=True),
        click.option("--lr", "learning_rate", type=float, default=None, help="Step size (default 1 for L-BFGS, 0.02 for Adam)."),
        click.option("--init", type=click.Choice(["content", "noise", "style"]), default="content", show_default=True, help="Starting image."),
        click.option("--preserve-color", type=click.Choice(["none", "luminance", "histogram"]), default="none", show_default=True, help="Keep the content's colours (Gatys et al. 2016)."),
        click.option("--color-method", type=click.Choice(["cholesky", "symmetric"]), default="cholesky", show_default=True, help="Linear map for --preserve-color histogram."),
        click.option("--style-scale", type=float, default=1.0, show_default=True, help="Style image size relative to the output's long side."),
        click.option("--tolerance", type=float, default=1e-5, show_default=True, help="Stop early when 5 iterations in a row improve the best loss by less than this, relative (0: never)."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N, mps or auto."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary."),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def model_options(function):
    """Options of the feed-forward method (``--model``), shared by ``image`` and ``video``."""

    options = [
        click.option("-m", "--model", default=None, help="A trained feed-forward model: a bundled name (see 'videostyle models') or a .safetensors file. Replaces optimisation."),
        click.option("--style-mix", default=None, help="Multi-style model: NAME=WEIGHT,... (weights normalised; default: equal)."),
        click.option("--strength", type=float, default=1.0, show_default=True, help="Model output blended with the input: 1 is the full style, 0 the input."),
        click.option("--runtime", type=click.Choice(["torch", "onnx"]), default="onnx", show_default=True, help="Model inference engine on the CPU (onnxruntime is faster there; torch is used on GPUs)."),
        click.option("--batch-size", type=int, default=4, show_default=True, help="Frames per model call."),
        click.option("--alpha", type=float, default=1.0, show_default=True, help="adain: content-style trade-off in feature space; arbitrary-video: blend with the input (1: full style)."),
        click.option("--mask", type=click.Path(dir_okay=False), default=None, help="adain, arbitrary-video: a mask image for two --style images (white: the first style, black: the second)."),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate(function)


def build_spec(method, styles, params: dict, video: bool):
    """The method spec of an ``image`` or ``video`` command from its parsed options (consumed from ``params``)."""
    from .methods.gatys import GatysOptions
    from .methods.ruder import VideoOptions
    from .spec import EncoderSpec, MethodSpec

    take = params.pop
    method = method or ("feedforward" if params["model"] else "optimize")
    image = GatysOptions(
        iterations=take("iterations"), content_weight=take("content_weight"), style_weight=take("style_weight"), tv_weight=take("tv_weight"),
        content_layers=parse_layers(take("content_layers")), style_layers=parse_layers(take("style_layers")), optimizer=take("optimizer"),
        learning_rate=take("learning_rate"), init=take("init"), seed=take("seed"), tolerance=take("tolerance"), style_scale=take("style_scale"),
        scales=take("scales", 1),
    )
    optimization = VideoOptions(image=image)
    if video:
        optimization = VideoOptions(
            image=image, first_iterations=take("first_iterations"), temporal_weight=take("temporal_weight"), long_term=parse_gaps(take("long_term")),
            frame_init=take("frame_init"), independent=take("independent"), passes=take("passes"), pass_iterations=take("pass_iterations"),
            pass_blend=take("pass_blend"), temporal_from_pass=take("temporal_from_pass"), flow=take("flow"), flow_dir=take("flow_dir"),
        )
    size = take("size")
    if size < 0:
        raise VideostyleError(f"size must be positive (or 0 for the input's own size), got {size}", parameter="size")
    style_blend = list(take("style_blend")) or None
    if style_blend is not None and len(style_blend) != len(styles):
        raise VideostyleError(f"{len(styles)} --style images but {len(style_blend)} --style-blend weights")
    alpha, strength = take("alpha"), take("strength")
    return MethodSpec(  # arbitrary-video's --alpha is its output blend, which the spec calls strength
        method=method, styles=list(styles), style_weights=style_blend, size=size or None, preserve_color=take("preserve_color"), color_method=take("color_method"),
        model=take("model"), model_style_weights=parse_style_mix(take("style_mix")), strength=alpha if method == "arbitrary-video" else strength,
        alpha=1.0 if method == "arbitrary-video" else alpha, mask=take("mask"), runtime=take("runtime"), batch_size=take("batch_size"), optimization=optimization,
        encoder=EncoderSpec(take("vgg_weights"), take("vgg_arch"), take("vgg_input"), take("pooling")),
    ).check()


def parse_gaps(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise VideostyleError(f"--long-term takes comma-separated integers, got {text!r}") from None


METHOD_HELP = "optimize: {optimize} (default with --style); feedforward (default with --model), reconet, adain, arbitrary-video: one network pass{per}."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="videostyle")
def cli() -> None:
    """Artistic style transfer for images and flicker-free video."""


@cli.command("image")
@click.argument("content", type=click.Path())
@click.option("-s", "--style", "styles", multiple=True, type=click.Path(), help="Style image; repeat to blend several styles (needed unless --model).")
@click.option("-o", "--output", required=True, type=click.Path(), help="Output image (.png, .jpg, ...).")
@gatys_options(size=512, iterations=500)
@click.option("--scales", type=int, default=1, show_default=True, help="Coarse-to-fine levels, each half the size of the next.")
@click.option("--save-every", type=int, default=0, help="Also write every N-th iterate beside the output (OUT_iter0100.png).")
@click.option("--method", type=click.Choice(METHODS), default=None, help=METHOD_HELP.format(optimize="Gatys et al.", per=""))
@model_options
@encoder_options
def image_command(content, styles, output, method, device, quiet, save_every, **params):
    """Stylize the image CONTENT with one or more --style images (Gatys et al. 2015), or with a trained --model."""
    from tqdm import tqdm

    from .api import stylize
    from .io.atomic import check_writable_destination
    from .io.image import load_image

    check_writable_destination(output)
    if Path(output).suffix.lower() not in _image_extensions():
        raise VideostyleError(f"unknown image format for output {output} (use .png, .jpg, ...)")
    spec = build_spec(method, styles, params, video=False)
    content_image = load_image(content)
    scales = spec.optimization.image.scales
    bar = None if quiet or spec.one_pass else tqdm(total=spec.optimization.image.iterations * scales, unit="it", desc="stylizing", dynamic_ncols=True)

    def report(scale, step):
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"scale {scale + 1}/{scales} loss {step.loss:.4g} ({format_terms(step.terms)})", refresh=False)

    try:
        result = stylize(content_image, spec, output=output, device=device, callback=report, save_every=save_every)
    finally:
        if bar is not None:
            bar.close()
    if quiet:
        return
    height, width = result.image.shape[-2:]
    if spec.one_pass:
        what = f"--method {spec.method}" + (f" --model {spec.model}" if spec.model else "")
        click.echo(f"wrote {output} ({width}x{height}) with {what} in {result.seconds:.2f} s", err=True)
        return
    why = " (converged)" if result.stopped_early else " (stopped: loss became NaN, kept the last good iterate)" if result.diverged else ""
    click.echo(
        f"wrote {output} ({width}x{height}) in {result.seconds:.1f} s, {result.iterations} iterations{why}; final loss {result.loss:.4g} = {format_terms(result.losses)}",
        err=True,
    )


@cli.command("video")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("-s", "--style", "styles", multiple=True, type=click.Path(), help="Style image; repeat to blend several styles (needed unless --model).")
@click.option("-o", "--output", required=True, type=click.Path(), help="Output video (.mp4, .mov, .mkv, .webm), .gif, or a folder for PNG frames.")
@click.option("--method", type=click.Choice(METHODS), default=None, help=METHOD_HELP.format(optimize="Ruder et al. 2016", per=" per frame"))
@click.option("--flow", type=click.Choice(["deepflow", "dis", "tvl1", "farneback"]), default="deepflow", show_default=True, help="Optical flow estimator.")
@click.option("--flow-dir", type=click.Path(file_okay=False), default=None, help="Folder of <a>_<b>.flo flows from another tool (0-based frame indices, at the working size); used before --flow.")
@click.option("--temporal-weight", type=float, default=2e5, show_default=True, help="Weight of the temporal consistency loss.")
@click.option("--long-term", default="1", show_default=True, help="Comma-separated earlier-frame gaps J for the temporal loss, e.g. 1,2,4.")
@click.option("--frame-init", type=click.Choice(["warped", "previous", "random"]), default="warped", show_default=True, help="Start of each frame after the first.")
@click.option("--independent", is_flag=True, help="Per-frame baseline: no temporal loss, every frame started afresh.")
@click.option("--first-iterations", type=int, default=500, show_default=True, help="Iterations for the first frame.")
@click.option("--passes", type=int, default=1, show_default=True, help="Multi-pass: after the first pass, alternate backward and forward passes.")
@click.option("--pass-iterations", type=int, default=50, show_default=True, help="Iterations per frame in passes after the first.")
@click.option("--pass-blend", type=float, default=0.5, show_default=True, help="Weight delta of the warped neighbour in a later pass's start.")
@click.option("--temporal-from-pass", type=int, default=2, show_default=True, help="First later pass that uses the temporal loss.")
@gatys_options(size=360, iterations=150)
@click.option("--start", type=float, default=None, help="Start time in seconds.")
@click.option("--end", type=float, default=None, help="End time in seconds.")
@click.option("--fps", type=float, default=None, help="Frame rate of an input image folder (default 25).")
@click.option("--keep-frames", is_flag=True, help="Keep the run folder (stylized PNG frames and flow) after success.")
@click.option("--resume/--no-resume", default=True, show_default=True, help="Continue an interrupted run with the same arguments (--no-resume: start afresh).")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None, help="Run folder (default: .OUTPUT.run beside the output).")
@model_options
@encoder_options
def video_command(input_path, styles, output, method, device, quiet, start, end, fps, keep_frames, resume, run_dir, **params):
    """Stylize the video INPUT (a file or a folder of frames) without flicker (Ruder et al. 2016), or with a trained --model."""
    from .pipeline import Progress, RunSettings, stylize_video

    spec = build_spec(method, styles, params, video=True)
    bars = _FrameProgress(quiet)
    try:
        summary = stylize_video(
            input_path, output, spec, start=start, end=end, fps=fps, run=RunSettings(run_dir, resume, keep_frames), device=device,
            progress=Progress(bars.on_start, bars.on_frame, bars.on_step),
        )
    finally:
        bars.close()
    if quiet:
        return
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    if spec.one_pass:
        detail = f" ({(summary.frames - summary.resumed_frames) / max(summary.seconds, 1e-9):.1f} frames/s end to end)"
    else:
        its, passes = summary.iterations, spec.optimization.passes
        if summary.resumed_frames == 0 and len(its) > 1 and passes == 1:
            counts = f"first frame {its[0]} iterations, later frames {sum(its[1:]) / len(its[1:]):.0f} on average"
        else:
            counts = f"{sum(its)} iterations" + (f" over {passes} passes" if passes > 1 else "")
        detail = f"; {counts}; flow {summary.flows_computed} computed, {summary.flows_loaded} from cache"
    click.echo(
        f"wrote {output}: {summary.frames} frames ({summary.resumed_frames} from an earlier run) at {summary.width}x{summary.height}, "
        f"{float(summary.fps):.3f} fps, in {summary.seconds:.1f} s{detail}" + (f"; frames kept in {summary.run_folder}" if summary.run_folder else ""),
        err=True,
    )


class _FrameProgress:
    """The progress bars of 'videostyle video': frames, and iterations within a frame for optimisation."""

    def __init__(self, quiet: bool):
        self.quiet, self.bars = quiet, {}

    def on_start(self, total: int, resumed: int) -> None:
        from tqdm import tqdm

        if not self.quiet:
            self.bars["frames"] = tqdm(total=total, unit="frame", desc="frames", dynamic_ncols=True, position=0)
            if resumed:
                tqdm.write(f"resuming: {resumed} frames already done", file=sys.stderr)

    def on_frame(self, index) -> None:
        if "frames" in self.bars:
            self.bars["frames"].update(1)

    def on_step(self, step) -> None:
        from tqdm import tqdm

        if self.quiet:
            return
        if step.iteration == 1:
            if "iterations" in self.bars:
                self.bars["iterations"].close()
            self.bars["iterations"] = tqdm(unit="it", desc="  frame", dynamic_ncols=True, position=1, leave=False)
        self.bars["iterations"].update(1)
        self.bars["iterations"].set_postfix_str(f"loss {step.loss:.4g} ({format_terms(step.terms)})", refresh=False)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@cli.command("evaluate")
@click.argument("original", type=click.Path())
@click.argument("stylized", type=click.Path())
@click.option("-s", "--style", type=click.Path(), default=None, help="The style image, for the style distance.")
@click.option("--flow", type=click.Choice(["deepflow", "dis", "tvl1", "farneback"]), default="dis", show_default=True, help="Flow estimator run on the original frames.")
@click.option("--long-gap", type=int, default=10, show_default=True, help="Frame gap of the long-term warping error.")
@click.option("--gt", "gt_dir", type=click.Path(file_okay=False), default=None, help="Ground-truth folder from 'videostyle dataset': its exact flows replace --flow.")
@click.option("--json", "json_path", type=click.Path(), default=None, help="Write the summary and per-frame values as JSON.")
@click.option("--plot", "plot_path", type=click.Path(), default=None, help="Write a PNG of the per-frame warping errors.")
@click.option("--no-perceptual", is_flag=True, help="Skip the content and style distances (no encoder passes).")
@click.option("--start", type=float, default=None, help="Start of the original's window in seconds (as given to 'videostyle video').")
@click.option("--end", type=float, default=None, help="End of the original's window in seconds.")
@click.option("--device", default="auto", show_default=True)
def evaluate_command(original, stylized, style, flow, long_gap, gt_dir, json_path, plot_path, no_perceptual, start, end, device):
    """Measure how much STYLIZED flickers and how well it keeps ORIGINAL's content and the style.

    Both are videos or frame folders. The original is resized to the stylized clip's size.
    """
    import json

    from .api import resolve_device
    from .flow import ground_truth_flows, make_estimator
    from .io.atomic import atomic_path, check_writable_destination
    from .io.image import to_tensor
    from .io.video import VideoReader
    from .metrics import evaluate_clip
    from .metrics.plot import plot_report
    from .spec import EncoderSpec
    from .pipeline import resize_frame

    for path in (json_path, plot_path):
        if path is not None:
            check_writable_destination(path)
    stylized_reader = VideoReader(stylized)
    original_reader = VideoReader(original, start=start, end=end)
    size = (stylized_reader.info.height, stylized_reader.info.width)
    style_tensor = to_tensor(style) if style is not None else None
    device = resolve_device(device)
    encoder = None if no_perceptual else EncoderSpec().load(device)
    flows = make_estimator(flow) if gt_dir is None else ground_truth_flows(gt_dir)
    report = evaluate_clip(
        (resize_frame(frame, size) for frame in original_reader), iter(stylized_reader), flows,
        long_gap=long_gap, encoder=encoder, style=style_tensor,
    )
    summary = report.summary()
    click.echo("| metric | value |\n| --- | --- |")
    for name, value in summary.items():
        click.echo(f"| {name} | {'-' if value is None else (f'{value:.6g}' if isinstance(value, float) else value)} |")
    if json_path is not None:
        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2))
    if plot_path is not None:
        plot_report(report, plot_path, title=f"{Path(stylized).name} vs {Path(original).name}")


@cli.command("compare")
@click.argument("clips", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="Side-by-side video (.mp4, ...), with the first clip's audio.")
@click.option("--sheet", type=click.Path(), default=None, help="Contact sheet PNG: one row per chosen frame, one column per clip.")
@click.option("--frames", "frame_list", default=None, help="Comma-separated frame indices for the sheet (default: 4 evenly spaced).")
@click.option("--label", "labels", multiple=True, help="Label of each clip, in order (default: file names).")
@click.option("--height", type=int, default=None, help="Height of each panel in pixels (default: the first clip's).")
@click.option("--start", type=float, default=None, help="Start of the first clip's window in seconds (as given to 'videostyle video').")
@click.option("--end", type=float, default=None, help="End of the first clip's window in seconds.")
def compare_command(clips, output, sheet, frame_list, labels, height, start, end):
    """Put CLIPS (the original first, then results) side by side, labelled, as a video and/or a contact sheet."""
    from .compare import compare_clips

    try:
        frames = None if frame_list is None else [int(part) for part in frame_list.split(",") if part.strip()]
    except ValueError:
        raise VideostyleError(f"--frames takes comma-separated integers, got {frame_list!r}") from None
    if height is not None and height <= 0:
        raise VideostyleError(f"--height must be positive, got {height}")
    count, notes = compare_clips(clips, output, sheet, frames, labels, height, start, end)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    written = " and ".join(str(path) for path in (output, sheet) if path)
    click.echo(f"wrote {written}: {len(clips)} clips, {count} frames", err=True)


TRAIN_METHODS = ("feedforward", "reconet", "arbitrary-video", "adain")


@cli.command("train")
@click.option("--method", type=click.Choice(TRAIN_METHODS), default="feedforward", show_default=True,
              help="feedforward: Johnson et al. (several --style: conditional IN); reconet: one style with temporal losses; "
                   "arbitrary-video: any style with temporal losses; adain: the AdaIN decoder.")
@click.option("-s", "--style", "styles", multiple=True, required=True, type=click.Path(), help="Style image (feedforward, reconet); images or folders to sample styles from (arbitrary-video, adain: each -s is drawn equally often). Repeatable.")
@click.option("-d", "--data", multiple=True, required=True, type=click.Path(), help="Training data: folders of images and/or videos, images or videos (reconet and arbitrary-video take frame pairs from the videos). Repeatable.")
@click.option("-o", "--output", required=True, type=click.Path(), help="Model file to write (.safetensors); its .log.csv and .loss.png go beside it.")
@click.option("--arch", type=click.Choice(["fast", "johnson", "reconet"]), default="fast", show_default=True, help="Transformer network: fast (CPU real time), johnson (the paper's), reconet (ReCoNet's).")
@click.option("--width", type=float, default=1.0, show_default=True, help="adain: channel width of the decoder relative to VGG-16's (0.5 halves every layer).")
@click.option("--size", type=int, default=128, show_default=True, help="Side of the square training crops.")
@click.option("--batch-size", type=int, default=None, help="Images per step (frame pairs for reconet and arbitrary-video) [default: 4, or 2 pairs].")
@click.option("--steps", type=int, default=2000, show_default=True)
@click.option("--lr", "learning_rate", type=float, default=None, help="Adam learning rate [default: 1e-3, 1e-4 for adain].")
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=None, help="Weight of the style loss [default: 3, 10 for adain].")
@click.option("--tv-weight", type=float, default=10.0, show_default=True)
@click.option("--output-temporal-weight", type=float, default=2e6, show_default=True, help="ReCoNet's output-level temporal loss (reconet, arbitrary-video).")
@click.option("--feature-temporal-weight", type=float, default=1e5, show_default=True, help="ReCoNet's feature-level temporal loss (reconet, arbitrary-video).")
@click.option("--style-size", type=int, default=256, show_default=True, help="Long side of the style images when their statistics are taken.")
@click.option("--video-stride", type=int, default=10, show_default=True, help="Use every N-th frame of training videos (frame pairs: every 3rd).")
@click.option("--painterly", type=float, default=0.5, show_default=True,
              help="adain, arbitrary-video: share of style crops re-rendered by a procedural painting filter (oil, watercolour, cartoon, pencil).")
@click.option("--identity-weight", type=float, default=0.0, show_default=True,
              help="adain: weight of the identity loss (the decoder's output for the content's own features against the content image, pixel MSE).")
@click.option("--init", default=None, help="Start from the weights of this trained model (bundled name or file) instead of random ones: fine-tuning.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=int, default=100, show_default=True, help="Steps between checkpoints (an interrupted run resumes from the last).")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None, help="Checkpoint folder (default: .OUTPUT.train beside the output).")
@click.option("--restart", is_flag=True, help="Discard a checkpoint folder left by a run with other settings.")
@click.option("--keep-run", is_flag=True, help="Keep the checkpoint folder after success.")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def train_command(method, styles, data, output, arch, width, size, batch_size, steps, learning_rate, content_weight, style_weight, tv_weight,
                  output_temporal_weight, feature_temporal_weight, style_size, video_stride, painterly, identity_weight, init, seed, checkpoint_every, run_dir, restart, keep_run, device, quiet):
    """Train a network: feed-forward (Johnson et al. 2016; Dumoulin et al. 2017), ReCoNet (Gao et al. 2018),
    the arbitrary-style video network, or the AdaIN decoder (Huang and Belongie 2017)."""
    from tqdm import tqdm

    from .api import resolve_device

    device = resolve_device(device)
    common = dict(size=size, steps=steps, seed=seed, checkpoint_every=checkpoint_every, init_model=init)
    # options whose default differs by method: left out when not given, so each options class's own default applies
    common.update({name: value for name, value in dict(batch_size=batch_size, learning_rate=learning_rate, style_weight=style_weight).items() if value is not None})
    if method == "feedforward":
        from .training.feedforward import TrainOptions, train_transformer

        options = TrainOptions(arch=arch, content_weight=content_weight, tv_weight=tv_weight, style_size=style_size, video_stride=video_stride, **common)
        run = functools.partial(train_transformer, styles, data, output, options)
    elif method == "adain":
        from .training.adain import AdaINTrainOptions, train_adain_decoder

        options = AdaINTrainOptions(width=width, video_stride=video_stride, painterly=painterly, identity_weight=identity_weight, **common)
        run = functools.partial(train_adain_decoder, styles, data, output, options)
    else:
        from .training.video import VideoTrainOptions, train_video_network

        options = VideoTrainOptions(
            mode="reconet" if method == "reconet" else "arbitrary", arch=arch, content_weight=content_weight, tv_weight=tv_weight,
            output_temporal_weight=output_temporal_weight, feature_temporal_weight=feature_temporal_weight, style_size=style_size, painterly=painterly, **common,
        )
        run = functools.partial(train_video_network, styles, data, output, options)
    options.check()
    bar = None if quiet else tqdm(total=steps, unit="step", desc="training", dynamic_ncols=True)

    def on_step(report):
        if bar is not None:
            if bar.n == 0 and report.step > 1:
                bar.update(report.step - 1)
                tqdm.write(f"resuming from step {report.step - 1}", file=sys.stderr)
            bar.update(1)
            bar.set_postfix_str(f"loss {report.loss:.4g} ({format_terms(report.terms)})", refresh=False)

    try:
        from .training.loop import RunControl

        summary = run(RunControl(device=device, run_folder=run_dir, restart=restart, keep_run=keep_run, on_step=on_step))
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        resumed = f" (resumed at step {summary.resumed_from})" if summary.resumed_from else ""
        click.echo(
            f"wrote {summary.output} after {summary.steps} steps{resumed}, {summary.seconds / 60:.1f} min of training; "
            f"final loss {summary.final_terms['loss']:.4g}; log {summary.log_path}, plot {summary.plot_path}",
            err=True,
        )


@cli.command("export")
@click.argument("model")
@click.option("-o", "--output", required=True, type=click.Path(), help="ONNX file to write.")
@click.option("--opset", type=int, default=17, show_default=True)
def export_command(model, output, opset):
    """Export a trained feed-forward MODEL (bundled name or file) to ONNX for other runtimes."""
    from .methods.feedforward import export_onnx
    from .models import load_transformer

    if Path(output).suffix.lower() != ".onnx":
        raise VideostyleError(f"the export must end in .onnx: {output}")
    from .io.atomic import check_writable_destination

    check_writable_destination(output)
    network, _ = load_transformer(model)
    export_onnx(network, output, opset)
    inputs = "images (B x 3 x H x W, RGB in [0, 1], H and W multiples of 4)" + (f" and style_weights (B x {network.num_styles})" if network.num_styles > 1 else "")
    click.echo(f"wrote {output}: inputs {inputs}; output stylized (same shape as images)", err=True)


@cli.command("models")
def models_command():
    """List the bundled models: what they are, their styles and how they were trained."""
    from .models import bundled_models, read_model

    click.echo("| name | kind | network | styles | steps | crop | batch | training time | final loss |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, path in bundled_models().items():
        _, info = read_model(path)
        config, training = info.get("config", {}), info.get("training", {})
        options = training.get("options", {})
        network = config.get("arch", f"decoder width {config.get('width', '?')}")
        styles = ", ".join(config.get("style_names") or training.get("styles", [])) or "-"
        click.echo(
            f"| {name} | {info.get('kind')} | {network} | {styles} | {options.get('steps')} | {options.get('size')} px | {options.get('batch_size')} | "
            f"{training.get('seconds', 0) / 60:.0f} min | {training.get('final_loss', float('nan')):.4g} |"
        )


@cli.command("dataset")
@click.argument("images", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="New folder for frames/, flow/ and occlusion/.")
@click.option("--frames", type=int, default=20, show_default=True)
@click.option("--width", type=int, default=160, show_default=True)
@click.option("--height", type=int, default=128, show_default=True)
@click.option("--layers", type=int, default=3, show_default=True, help="Moving cut-outs over the moving background.")
@click.option("--long-gap", type=int, default=10, show_default=True, help="Also write flows between frames this far apart (0: none).")
@click.option("--seed", type=int, default=0, show_default=True)
def dataset_command(images, output, frames, width, height, layers, long_gap, seed):
    """Make a test sequence with exact optical flow and occlusions from the photos in IMAGES."""
    import numpy as np

    from .datasets import generate_sequence, write_sequence
    from .io.atomic import atomic_folder, check_folder_destination
    from .io.image import load_image
    from .io.video import IMAGE_SUFFIXES

    folder = Path(images)
    if not folder.is_dir():
        raise VideostyleError(f"no such folder: {folder}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise VideostyleError(f"no images in {folder}")
    out = check_folder_destination(output)
    sequence = generate_sequence([np.asarray(load_image(path)) for path in paths], frames=frames, height=height, width=width, layers=layers, seed=seed)
    with atomic_folder(out) as tmp:
        write_sequence(sequence, tmp, long_gap=long_gap)
    click.echo(f"wrote {out}: {frames} frames at {width}x{height}, {layers} layers, flows and occlusions for gaps 1" + (f" and {long_gap}" if long_gap > 1 else ""), err=True)


#: API parameter -> CLI flag, where the flag is not simply ``--`` plus the name with dashes.
FLAGS = {"style_weights": "--style-blend", "model_style_weights": "--style-mix", "styles": "--style", "learning_rate": "--lr", "resume=False": "--no-resume",
         "restart=True": "--restart", "init_model": "--init", "vgg_weights": "--vgg-weights"}


def as_flags(error: VideostyleError) -> str:
    """A library error's message with the API parameter names it contains written as CLI flags."""
    message = str(error)
    names = {name for name in FLAGS if "_" in name or "=" in name} | ({error.parameter} if error.parameter else set())  # plain words only when named
    for name in sorted(names, key=len, reverse=True):
        flag = FLAGS.get(name, "--" + name.replace("_", "-"))
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w=-])", flag, message)
    return message


def _image_extensions() -> set[str]:
    from PIL import Image

    return set(Image.registered_extensions())


def _exit_interrupted() -> None:
    """Exit 130 at once. The partial outputs were removed while the interrupt unwound the stack;
    a normal interpreter exit after a signal sometimes ended as a death by SIGINT instead (exit -2)."""
    click.echo("interrupted", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _caused_by_interrupt(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every user error into one line and an exit status."""
    debug = os.environ.get("VIDEOSTYLE_DEBUG") == "1"
    signal.signal(signal.SIGTERM, _interrupt)  # a kill cleans up like Ctrl-C: partial outputs go, run folders stay
    if not debug:  # warnings (a corrupt tail of a video...) as one line each, without source locations
        warnings.showwarning = lambda message, category, *rest, **kw: click.echo(f"warning: {message}", err=True)
    try:
        cli.main(args=argv, prog_name="videostyle", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        _exit_interrupted()
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        click.echo(f"error: {error.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except VideostyleError as error:
        click.echo(f"error: {as_flags(error)}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        _exit_interrupted()
    except MemoryError:
        click.echo("error: out of memory; try a smaller --size", err=True)
        sys.exit(EXIT_USER_ERROR)
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        if _caused_by_interrupt(error):  # a signal during a lazy import arrives wrapped (RuntimeError from __set_name__, ...)
            _exit_interrupted()
        if debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if "out of memory" in message.lower():
            click.echo("error: out of memory on the device; try a smaller --size or --device cpu", err=True)
        else:
            click.echo(f"error: unexpected {type(error).__name__}: {message} (set VIDEOSTYLE_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_USER_ERROR)


if __name__ == "__main__":
    main()
