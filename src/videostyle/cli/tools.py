"""The other commands: ``evaluate``, ``compare``, ``train``, ``export``, ``models``, ``dataset``."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ..errors import VideostyleError
from ..training import TRAIN_METHODS
from .app import cli
from .options import (
    choice_option,
    device_option,
    flow_option,
    format_terms,
    number_option,
    output_option,
    path_option,
    quiet_option,
    report_notes,
    styles_option,
)


@cli.command("evaluate")
@click.argument("original", type=click.Path())
@click.argument("stylized", type=click.Path())
@click.option("-s", "--style", type=click.Path(), default=None, help="The style image, for the style distance.")
@flow_option("dis", "Flow estimator run on the original frames.")
@click.option("--long-gap", type=int, default=10, show_default=True, help="Frame gap of the long-term warping error.")
@click.option(
    "--gt", "gt_dir", type=click.Path(file_okay=False), default=None, help="Ground-truth folder from 'videostyle dataset': its exact flows replace --flow."
)
@click.option("--json", "json_path", type=click.Path(), default=None, help="Write the summary and per-frame values as JSON.")
@click.option("--plot", "plot_path", type=click.Path(), default=None, help="Write a PNG of the per-frame warping errors.")
@click.option("--no-perceptual", is_flag=True, help="Skip the content and style distances (no encoder passes).")
@click.option("--start", type=float, default=None, help="Start of the original's window in seconds (as given to 'videostyle video').")
@click.option("--end", type=float, default=None, help="End of the original's window in seconds.")
@device_option
def evaluate_command(original, stylized, style, flow, long_gap, gt_dir, json_path, plot_path, no_perceptual, start, end, device):
    """Measure how much STYLIZED flickers and how well it keeps ORIGINAL's content and the style.

    Both are videos or frame folders. The original is resized to the stylized clip's size.
    """
    import json

    from ..devices import resolve_device
    from ..flow import ground_truth_flows, make_estimator
    from ..io.atomic import atomic_path, check_not_an_input, check_png_destination, check_writable_destination
    from ..io.image import to_tensor
    from ..io.video import VideoReader
    from ..metrics import evaluate_clip
    from ..metrics.plot import plot_report
    from ..pipeline import resize_frame
    from ..spec import EncoderSpec

    inputs = [original, stylized, style, gt_dir]
    if json_path is not None:
        check_writable_destination(json_path)
        check_not_an_input(json_path, inputs, parameter="json")
    if plot_path is not None:
        check_png_destination(plot_path, "plot")
        check_not_an_input(plot_path, inputs, parameter="plot")
    stylized_reader = VideoReader(stylized)
    original_reader = VideoReader(original, start=start, end=end)
    size = (stylized_reader.info.height, stylized_reader.info.width)
    style_tensor = to_tensor(style) if style is not None else None
    device = resolve_device(device)
    encoder = None if no_perceptual else EncoderSpec().load(device)
    flows = make_estimator(flow) if gt_dir is None else ground_truth_flows(gt_dir)
    report = evaluate_clip(
        (resize_frame(frame, size) for frame in original_reader),
        iter(stylized_reader),
        flows,
        long_gap=long_gap,
        encoder=encoder,
        style=style_tensor,
    )
    summary = report.summary()
    click.echo("| metric | value |\n| --- | --- |")
    for name, value in summary.items():
        click.echo(f"| {name} | {'-' if value is None else (f'{value:.6g}' if isinstance(value, float) else value)} |")
    ratio = summary.get("short_term_ratio")
    if isinstance(ratio, float):
        reading = "more flicker than" if ratio > 1.005 else "less flicker than" if ratio < 0.995 else "as much flicker as"
        click.echo(
            f"short_term_ratio {ratio:.3g}: the stylized clip's warping error over the input's own; {reading} the input "
            "(1 is as steady as the input, whose error comes from flow and occlusions alone)",
            err=True,
        )
    if json_path is not None:
        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2))
        click.echo(f"wrote {json_path}", err=True)
    if plot_path is not None:
        plot_report(report, plot_path, title=f"{Path(stylized).name} vs {Path(original).name}")
        click.echo(f"wrote {plot_path}", err=True)


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
    from ..compare import compare_clips

    try:
        frames = None if frame_list is None else [int(part) for part in frame_list.split(",") if part.strip()]
    except ValueError:
        raise VideostyleError(f"--frames takes comma-separated integers, got {frame_list!r}") from None
    count, notes = compare_clips(clips, output, sheet, frames, labels, height, start, end)
    report_notes(notes)
    written = " and ".join(str(path) for path in (output, sheet) if path)
    click.echo(f"wrote {written}: {len(clips)} clips, {count} frames", err=True)


@cli.command("train")
@click.option(
    "--method",
    type=click.Choice(TRAIN_METHODS),
    default="feedforward",
    show_default=True,
    help="feedforward: Johnson et al. (several --style: conditional IN); reconet: one style with temporal losses; "
    "arbitrary-video: any style with temporal losses; adain: the AdaIN decoder; "
    "reptile: a starting point that `videostyle adapt` fine-tunes to one style fast (meta-learned over the -s styles); "
    "swap-decoder: the inverse network of --method style-swap (relu3_1 to image; photos only, no -s); "
    "distill: a faster network (--arch) that reproduces a trained one's pictures (--teacher; no -s); "
    "cartoongan: a cartoon style learned from a set of cartoon pictures (CartoonGAN; -s the cartoon data folder).",
)
@styles_option(
    "Style image (feedforward, reconet); images or folders to sample styles from (arbitrary-video, adain, reptile, distill from an any-style "
    "network: each -s is drawn equally often); cartoongan: a folder with cartoon/ and smoothed/ pictures (scripts/build_cartoon_corpus.py). Repeatable."
)
@path_option(
    "-d",
    "--data",
    multiple=True,
    required=True,
    help="Training data: folders of images and/or videos, images or videos (reconet and arbitrary-video take frame pairs from the videos). Repeatable.",
)
@output_option("Model file to write (.safetensors); its .log.csv and .loss.png go beside it.")
@click.option(
    "--arch",
    type=click.Choice(["fast", "lean", "realtime", "johnson", "reconet"]),
    default=None,
    help="Transformer network: fast (CPU), lean (fast at 8-16-32 channels, zero padding), realtime (16-32-64, zero padding, stride-2 first layer, "
    "sub-pixel output), johnson (the paper's), reconet (ReCoNet's) [default: fast; for distill, lean].",
)
@click.option("--width", type=float, default=1.0, show_default=True, help="adain: channel width of the decoder relative to VGG-16's (0.5 halves every layer).")
@click.option("--size", type=int, default=None, help="Side of the square training crops [default: 128, 256 for cartoongan].")
@click.option("--batch-size", type=int, default=None, help="Images per step (frame pairs for reconet and arbitrary-video) [default: 4, or 2 pairs].")
@click.option("--steps", type=int, default=2000, show_default=True)
@click.option("--lr", "learning_rate", type=float, default=None, help="Adam learning rate [default: 1e-3, 1e-4 for adain, 2e-4 for cartoongan].")
@click.option("--content-weight", type=float, default=None, help="Weight of the content loss [default: 1].")
@click.option("--style-weight", type=float, default=None, help="Weight of the style loss [default: 3, 10 for adain].")
@click.option("--tv-weight", type=float, default=10.0, show_default=True)
@click.option(
    "--output-temporal-weight",
    type=float,
    default=None,
    help="ReCoNet's output-level temporal loss (reconet, arbitrary-video; cartoongan's temporal stage) [default: 2e6; 0 for cartoongan].",
)
@click.option(
    "--feature-temporal-weight",
    type=float,
    default=None,
    help="ReCoNet's feature-level temporal loss (reconet, arbitrary-video; cartoongan's temporal stage) [default: 1e5; 0 for cartoongan].",
)
@click.option("--style-size", type=int, default=256, show_default=True, help="Long side of the style images when their statistics are taken.")
@click.option("--video-stride", type=int, default=10, show_default=True, help="Use every N-th frame of training videos (frame pairs: every 3rd).")
@number_option(
    "--painterly",
    0.5,
    "adain, arbitrary-video, distill from an any-style network: share of style crops re-rendered by a procedural painting filter "
    "(oil, watercolour, cartoon, pencil).",
)
@choice_option(
    "--batches",
    ["auto", "host", "device"],
    "auto",
    "reconet, arbitrary-video: where training batches are made: host (the CPU: generated scenes, OpenCV's painting filters) or device "
    "(where the network trains: fake-flow pairs from the photos, tensor filters); auto: device off the CPU.",
)
@choice_option(
    "--precision",
    ["float32", "bfloat16"],
    "float32",
    "reconet, arbitrary-video: bfloat16 runs the networks and the loss under autocast (faster on recent GPUs).",
)
@click.option(
    "--style-statistic",
    type=click.Choice(["gram", "mean_std"]),
    default=None,
    help="reconet, arbitrary-video: the style loss's statistic: Gram matrices (texture) or channel means and deviations (palette) "
    "[default: gram for reconet, mean_std for arbitrary-video].",
)
@click.option("--max-grad-norm", type=float, default=None, help="reconet, arbitrary-video: clip the gradient's norm to this before each step.")
@click.option(
    "--identity-weight",
    type=float,
    default=None,
    help="adain, swap-decoder: weight of the identity loss (the decoder's output for the content's own features against the content image, "
    "pixel MSE) [default: 0 for adain, 1 for swap-decoder].",
)
@click.option(
    "--teacher", default=None, help="distill: the trained transformer or any-style network (bundled name or file) whose pictures the new network learns."
)
@click.option("--pixel-weight", type=float, default=1.0, show_default=True, help="distill: weight of the mean absolute difference from the teacher's picture.")
@number_option(
    "--gram-weight", 1.0, "distill: weight of the difference of VGG Gram matrices (texture statistics) from the teacher's picture's, relative to theirs."
)
@click.option(
    "--feature-weight",
    type=float,
    default=0.0,
    show_default=True,
    help="distill: weight of the VGG feature difference from the teacher's picture (relative to the teacher's feature energy).",
)
@click.option(
    "--init-steps", type=int, default=None, help="cartoongan: steps of the content loss alone at the start (the initialisation phase) [default: 500]."
)
@click.option(
    "--discriminator-lr", "discriminator_learning_rate", type=float, default=None, help="cartoongan: Adam learning rate of the discriminator [default: 2e-4]."
)
@click.option("--inner-steps", type=int, default=20, show_default=True, help="reptile: adaptation steps per style in each meta step.")
@click.option("--meta-lr", type=float, default=1.0, show_default=True, help="reptile: the outer step size (annealed to 0 over the run).")
@click.option("--init", default=None, help="Start from the weights of this trained model (bundled name or file) instead of random ones: fine-tuning.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=int, default=100, show_default=True, help="Steps between checkpoints (an interrupted run resumes from the last).")
@click.option(
    "--minutes",
    type=float,
    default=None,
    help="End this command's training after this many minutes, at a checkpoint, and write the model; with --keep-run the same command continues it.",
)
@click.option("--run-dir", type=click.Path(file_okay=False), default=None, help="Checkpoint folder (default: .OUTPUT.train beside the output).")
@click.option("--restart", is_flag=True, help="Discard a checkpoint folder left by a run with other settings.")
@click.option("--keep-run", is_flag=True, help="Keep the checkpoint folder after success.")
@device_option
@quiet_option()
def train_command(method, styles, data, output, init, run_dir, restart, keep_run, minutes, device, quiet, **params):
    """Train a network: feed-forward (Johnson et al. 2016; Dumoulin et al. 2017), ReCoNet (Gao et al. 2018),
    the arbitrary-style video network, the AdaIN decoder (Huang and Belongie 2017), a faster copy of a
    trained network (distill), or a cartoon generator (CartoonGAN, Chen et al. 2018)."""
    from dataclasses import fields

    from tqdm import tqdm

    from ..checks import check_positive
    from ..devices import resolve_device
    from ..training import trainer

    device = resolve_device(device)
    if minutes is not None:
        check_positive("minutes", minutes)  # finite too: --minutes nan is refused
    if not styles and method not in ("swap-decoder", "distill"):
        raise click.UsageError(f"--style is needed for --method {method}")
    options_class, train, fixed = trainer(method)
    # each options class takes the flags that name its fields; a flag left at None (batch size, learning rate,
    # style weight) keeps that class's own default, which differs by method
    values = {field.name: params[field.name] for field in fields(options_class) if params.get(field.name) is not None}
    options = options_class(**values, **fixed, init_model=init)
    run = functools.partial(train, styles, data, output, options)
    options.check()
    bar = None  # opened at the first step: data that cannot be trained on fails before any bar is drawn

    def on_step(report):
        nonlocal bar
        if bar is None and not quiet:
            bar = tqdm(total=options.steps, unit="step", desc="training", dynamic_ncols=True)
        if bar is not None:
            if bar.n == 0 and report.step > 1:
                bar.update(report.step - 1)
                tqdm.write(f"resuming from step {report.step - 1}", file=sys.stderr)
            bar.update(1)
            bar.set_postfix_str(f"loss {report.loss:.4g} ({format_terms(report.terms)})", refresh=False)

    try:
        from ..training.loop import RunControl

        run_for = None if minutes is None else 60 * minutes
        summary = run(RunControl(device=device, run_folder=run_dir, restart=restart, keep_run=keep_run, on_step=on_step, run_for=run_for))
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


@cli.command("adapt")
@click.argument("style", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="Also copy the adapted model here (.safetensors); it is cached either way.")
@click.option(
    "--content",
    type=click.Path(),
    default=None,
    help="Clip (frame pairs with flow: temporal losses), image, or folder of images to adapt on [default: photos shipped with videostyle].",
)
@click.option("--steps", type=int, default=None, help="Training steps [default: 300, or no step limit with --minutes].")
@click.option("--minutes", type=float, default=None, help="End the adaptation after this many minutes of training.")
@click.option(
    "--start",
    default="any-style",
    show_default=True,
    help="Start from: any-style (the any-style network's prediction for STYLE), meta (the bundled Reptile start), scratch, or a model: a single-style network's weights, or an any-style network's prediction (arbitrary_video_lean: a faster lean network).",
)
@device_option
@quiet_option()
def adapt_command(style, output, content, steps, minutes, start, device, quiet):
    """Adapt a fast network to the STYLE image in minutes, for 'videostyle video IN -m MODEL' (or --method adapt).

    The result is cached by the style's and the content's bytes and the settings: the same command
    again returns at once, and an interrupted adaptation resumes."""
    import time

    from ..devices import resolve_device
    from ..options import AdaptOptions
    from ..training.adapt import adapt
    from .stylize import AdaptProgress

    if output is not None:
        from ..training.loop import check_model_output

        check_model_output(output, [style, content])
    time_bound = steps is None and minutes is not None  # --minutes alone: time is the limit, not steps
    if steps is None:
        steps = 10**6 if time_bound else AdaptOptions.steps
    options = AdaptOptions(start=start, steps=steps, minutes=minutes).check()
    progress = AdaptProgress(quiet, minutes if time_bound else None)
    started = time.perf_counter()
    try:
        path, cached = adapt(style, content, options, output=output, device=resolve_device(device), on_step=progress.on_step)
    finally:
        progress.close()
    if not quiet:
        how = "from the cache" if cached else f"adapted in {time.perf_counter() - started:.0f} s"
        click.echo(f"wrote {path} ({how}); use it with: videostyle video IN -o OUT -m {path}", err=True)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface; the page has no login).")
@click.option("--port", type=int, default=7860, show_default=True)
@click.option("--output-dir", type=click.Path(), default="videostyle-web", show_default=True, help="Results, their inputs and unfinished runs.")
@click.option("--max-upload-mb", type=float, default=200, show_default=True, help="Largest upload.")
@click.option("--max-clip-seconds", type=float, default=60, show_default=True, help="Longest clip (or part of a clip between start and end).")
@device_option
def serve_command(host, port, output_dir, max_upload_mb, max_clip_seconds, device):
    """Start the web page: Image and Video tabs, one job at a time, results in --output-dir.

    Needs the web extra: pip install 'videostyle[web]'. A video job interrupted by a restart
    continues where it stopped when it is run again with the same inputs and settings."""
    from ..checks import check_positive
    from ..devices import resolve_device

    for flag, value in (("max_upload_mb", max_upload_mb), ("max_clip_seconds", max_clip_seconds)):
        check_positive(flag, value)
    if not 0 < port < 65536:
        raise VideostyleError(f"--port must be between 1 and 65535, got {port}")
    try:
        from ..serve.app import launch
    except ImportError as error:
        if "gradio" not in str(error):
            raise
        raise VideostyleError("the web page needs the web extra: pip install 'videostyle[web]'") from None
    from ..serve.jobs import ServeSettings

    output = Path(output_dir)
    if output.exists() and not output.is_dir():
        raise VideostyleError(f"--output-dir is a file, not a folder: {output}")
    settings = ServeSettings(output, max_upload_mb=max_upload_mb, max_clip_seconds=max_clip_seconds, device=str(resolve_device(device)))
    launch(
        settings,
        host=host,
        port=port,
        quiet=True,
        on_ready=lambda url: click.echo(f"videostyle: the page is at {url} (results in {output}); Ctrl-C stops it", err=True),
    )


@cli.command("export")
@click.argument("model")
@click.option("-o", "--output", required=True, type=click.Path(), help="ONNX file to write.")
@click.option("--opset", type=int, default=17, show_default=True)
def export_command(model, output, opset):
    """Export a trained feed-forward MODEL (bundled name or file) to ONNX for other runtimes."""
    from ..methods.feedforward import export_onnx
    from ..models import load_transformer

    if Path(output).suffix.lower() != ".onnx":
        raise VideostyleError(f"the export must end in .onnx: {output}")
    from ..io.atomic import check_writable_destination

    check_writable_destination(output)
    network, _ = load_transformer(model)
    export_onnx(network, output, opset)
    inputs = f"images (B x 3 x H x W, RGB in [0, 1], H and W multiples of {network.stride})" + (
        f" and style_weights (B x {network.num_styles})" if network.num_styles > 1 else ""
    )
    click.echo(f"wrote {output}: inputs {inputs}; output stylized (same shape as images)", err=True)


@cli.command("models")
def models_command():
    """List the bundled models: how to use each, what they are, their styles and how they were trained."""
    from ..models import bundled_models, read_model_info
    from ..registry import method_for_kind

    click.echo(
        "| name | use it with | method | network | styles | steps | crop | batch | training time | final loss |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for name, path in bundled_models().items():
        info = read_model_info(path)
        config, training = info.get("config", {}), info.get("training", {})
        options = training.get("options", {})
        network = config.get("arch", f"decoder width {config.get('width', '?')}")
        styles = ", ".join(config.get("style_names") or training.get("styles", [])) or "-"
        method = method_for_kind(info["kind"]) or "-"
        if "inner_steps" in options:  # the Reptile start: no style of its own, a start for adaptation
            use, method = "videostyle adapt PAINTING --start meta", "adapt"
        elif info["kind"] == "transformer":
            use = f"--model {name}" + (" --style-mix NAME=W,..." if config.get("num_styles", 1) > 1 else "")
        else:
            use = f"--model {name} -s PAINTING (any painting)"
        click.echo(
            f"| {name} | {use} | {method} | {network} | {styles} | {options.get('steps')} | {options.get('size')} px | {options.get('batch_size')} | "
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

    from ..datasets import generate_sequence, write_sequence
    from ..io.atomic import atomic_folder, check_folder_destination
    from ..io.image import load_image
    from ..io.video import IMAGE_SUFFIXES

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
    click.echo(
        f"wrote {out}: {frames} frames at {width}x{height}, {layers} layers, flows and occlusions for gaps 1" + (f" and {long_gap}" if long_gap > 1 else ""),
        err=True,
    )


#: API parameter -> CLI flag, where the flag is not simply ``--`` plus the name with dashes.


@cli.command("deflicker")
@click.argument("original", type=click.Path())
@click.argument("processed", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="Output video (.mp4, .mov, .mkv, .webm), .gif, or a folder for PNG frames.")
@click.option(
    "--weight",
    type=float,
    default=None,
    help="How strongly each frame follows the previous output (more: less flicker, more smoothing) [default: 1.0].",
)
@flow_option("dis", "Optical flow on ORIGINAL.")
@quiet_option()
def deflicker_command(original, processed, output, weight, flow, quiet):
    """Remove the flicker of PROCESSED, a per-frame processed version of the clip ORIGINAL (same frames and
    size; made by any tool), guided by ORIGINAL's motion (Bonneel et al. 2015)."""
    from tqdm import tqdm

    from ..deflicker import DEFAULT_WEIGHT, deflicker_video

    bar = None  # opened at the first frame: inputs that fail their checks print no empty bar before the error

    def on_frame(_: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(unit="frame", desc="deflickering", dynamic_ncols=True)
        bar.update(1)

    try:
        summary = deflicker_video(
            original, processed, output, weight=DEFAULT_WEIGHT if weight is None else weight, flow=flow, on_frame=None if quiet else on_frame
        )
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        report_notes(
            summary.notes, f"wrote {output}: {summary.frames} frames in {summary.seconds:.1f} s ({summary.frames / max(summary.seconds, 1e-9):.1f} frames/s)"
        )
