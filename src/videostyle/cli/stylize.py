"""``videostyle image`` and ``videostyle video``: build a method spec, call the library once, report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from ..errors import VideostyleError
from ..io.video import ClipWindow
from ..pipeline import LONG_RUN_SECONDS, format_duration
from ..registry import METHODS
from .app import cli
from .audio import audio_method_options, audio_options_from
from .options import (
    METHOD_HELP,
    adapt_options,
    build_spec,
    encoder_options,
    flow_option,
    format_terms,
    gatys_options,
    model_options,
    output_option,
    ray_options,
    ray_settings,
    report_notes,
    styles_option,
)

if TYPE_CHECKING:
    from ..distributed.ray_runner import RaySettings


@cli.command("image")
@click.argument("contents", metavar="CONTENT...", nargs=-1, required=True, type=click.Path())
@styles_option("Style image; repeat to blend several styles (needed unless --model). A folder or glob: one output per style.")
@output_option("Output image (.png, .jpg, ...). Several contents, a folder or a glob: the output folder (CONTENT.png, or CONTENT--STYLE.png per style).")
@click.option("--each-style", is_flag=True, help="Several --style images: one output per content and style, instead of their blend.")
@click.option("--sheet/--no-sheet", default=True, show_default=True, help="Batches: write OUTPUT/contact_sheet.png (contents x styles).")
@gatys_options(size=512, iterations=500)
@click.option("--scales", type=int, default=1, show_default=True, help="Coarse-to-fine levels, each half the size of the next.")
@click.option("--coarse-iterations", type=int, default=None, help="--scales above 1: iterations at each coarser level [default: a fifth of --iterations].")
@click.option("--save-every", type=int, default=0, help="Also write every N-th iterate beside the output (OUT_iter0100.png).")
@click.option("--face-box", default=None, help="--method faces: the content's face as LEFT,TOP,WIDTH,HEIGHT in its pixels (default: detected).")
@click.option("--method", type=click.Choice(list(METHODS)), default=None, help=METHOD_HELP.format(optimize="Gatys et al.", per=""))
@click.option("--dry-run", is_flag=True, help="Time a few iterations (or one pass), print the estimated total time and exit without writing.")
@model_options
@adapt_options
@ray_options(chunks=False)
@encoder_options
def image_command(contents, styles, output, method, device, quiet, save_every, dry_run, each_style, sheet, **params):
    """Stylize the image CONTENT with one or more --style images (Gatys et al. 2015), or with a trained --model.

    Several CONTENTs, folders or globs ('photos/*.jpg') make a batch into the folder OUTPUT: one overall
    progress bar, outputs finished by an earlier run with the same settings skipped, a contact sheet."""
    from ..api import stylize
    from ..io.image import check_picture_destination

    ray = ray_settings(params)
    if _is_batch(contents, styles, output, each_style):
        if save_every:
            raise VideostyleError("--save-every writes the iterates of one picture; a batch writes only results")
        _image_batch(contents, styles, output, method, device, quiet, dry_run, _BatchFlags(each_style, sheet, ray), params)
        return
    if ray is not None:
        raise VideostyleError("--ray spreads a batch (several contents, a folder or a glob) over a cluster; one picture runs here")
    content = contents[0]
    check_picture_destination(output)
    spec = build_spec(method, styles, params, video=False)
    if dry_run:
        from ..api import estimate_image
        from ..io.atomic import check_not_an_input

        check_not_an_input(output, [content, *spec.styles, spec.mask])
        report_estimate(estimate_image(content, spec, device=device), None, spec)
        return
    scales = spec.optimization.image.scales
    bar = None if quiet or spec.one_pass else tqdm(total=sum(spec.optimization.image.iterations_per_scale), unit="it", desc="stylizing", dynamic_ncols=True)

    def report(scale, step):
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"scale {scale + 1}/{scales} loss {step.loss:.4g} ({format_terms(step.terms)})", refresh=False)

    adapting = AdaptProgress(quiet)
    try:
        result = stylize(content, spec, output=output, device=device, callback=report, save_every=save_every, on_adapt=adapting.on_step)
    finally:
        adapting.close()
        if bar is not None:
            bar.close()
    if quiet:
        return
    height, width = result.image.shape[-2:]
    report_notes(result.notes)
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
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path())
@styles_option("Style image; repeat to blend several styles (needed unless --model).")
@output_option("Output video (.mp4, .mov, .mkv, .webm), .gif, or a folder for PNG frames. Several INPUTs: the output folder (INPUT.mp4 each).")
@click.option("--method", type=click.Choice(list(METHODS)), default=None, help=METHOD_HELP.format(optimize="Ruder et al. 2016", per=" per frame"))
@flow_option("deepflow")
@click.option(
    "--flow-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of <a>_<b>.flo flows from another tool (0-based frame indices, at the working size); used before --flow.",
)
@click.option("--temporal-weight", type=float, default=2e5, show_default=True, help="Weight of the temporal consistency loss.")
@click.option("--long-term", default="1", show_default=True, help="Comma-separated earlier-frame gaps J for the temporal loss, e.g. 1,2,4.")
@click.option(
    "--frame-init", type=click.Choice(["warped", "previous", "random"]), default="warped", show_default=True, help="Start of each frame after the first."
)
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
@click.option(
    "--resume/--no-resume",
    default=None,
    help="Keep finished frames so that an interrupted run with the same arguments continues (--no-resume: start afresh) "
    "[default: on for optimisation, off for one-pass methods].",
)
@click.option("--run-dir", type=click.Path(file_okay=False), default=None, help="Run folder (default: .OUTPUT.run beside the output).")
@click.option("--dry-run", is_flag=True, help="Time the first frame (a few iterations, or one batch), print the estimated total time and exit without writing.")
@ray_options(chunks=True)
@click.option(
    "--restyle-audio",
    type=click.Path(),
    default=None,
    help="Replace the soundtrack with the clip's sound rebuilt from this sound (extra videostyle[audio]; see 'videostyle audio').",
)
@click.option("--audio-method", type=click.Choice(["letitbee", "texture"]), default="letitbee", show_default=True, help="How --restyle-audio restyles.")
@click.option(
    "--deflicker",
    "deflicker_weight",
    is_flag=False,
    flag_value=1.0,
    default=None,
    type=float,
    metavar="[WEIGHT]",
    help="One-pass methods: make the result temporally consistent afterwards (Bonneel et al. 2015; see 'videostyle deflicker'), weight 1 alone.",
)
@audio_method_options
@model_options
@adapt_options
@encoder_options
def video_command(
    inputs,
    styles,
    output,
    method,
    device,
    quiet,
    start,
    end,
    fps,
    keep_frames,
    resume,
    run_dir,
    dry_run,
    deflicker_weight,
    **params,
):
    """Stylize the video INPUT (a file or a folder of frames) without flicker (Ruder et al. 2016), or with a trained --model.

    Several INPUTs (or a glob, 'clips/*.mp4') make a batch into the folder OUTPUT, one clip after
    the other; clips finished by an earlier run with the same settings are skipped."""
    from ..batch import is_pattern
    from ..pipeline import Progress, RunSettings, stylize_video

    ray = ray_settings(params)
    restyle_audio = _audio_restyle(params)
    spec = build_spec(method, styles, params, video=True)
    if deflicker_weight is not None and not spec.one_pass:
        raise VideostyleError("--deflicker is for the one-pass (per-frame) methods; the optimisation method has its own temporal loss")
    if deflicker_weight is not None and len(inputs) > 1:
        raise VideostyleError("--deflicker runs on one clip; run 'videostyle deflicker' on each output of a batch")
    if deflicker_weight is not None:
        from ..io.video import is_frame_folder_path

        if is_frame_folder_path(Path(output)):
            raise VideostyleError("--deflicker writes a video file or a GIF; for a folder of frames, run 'videostyle deflicker' on a video output")
    window = ClipWindow(start, end, fps)
    if len(inputs) > 1 or is_pattern(inputs[0]):
        _video_batch(inputs, output, spec, window, RunSettings(run_dir, resume, keep_frames, ray), device, quiet, dry_run, restyle_audio)
        return
    input_path = inputs[0]
    if dry_run:
        from ..pipeline import estimate_video

        estimate = estimate_video(input_path, output, spec, window=window, device=device)
        report_estimate(estimate.total_seconds, estimate, spec)
        return
    bars, adapting = FrameProgress(quiet), AdaptProgress(quiet)
    on_estimate = None if quiet else lambda estimate: report_estimate(estimate.total_seconds, estimate, spec)
    try:
        summary = stylize_video(
            input_path,
            output,
            spec,
            window=window,
            run=RunSettings(run_dir, resume, keep_frames, ray),
            device=device,
            progress=Progress(bars.on_start, bars.on_frame, bars.on_step, on_estimate, adapting.on_step),
            restyle_audio=restyle_audio,
        )
    finally:
        adapting.close()
        bars.close()
    if deflicker_weight is not None:
        from ..deflicker import deflicker_in_place

        deflickered = deflicker_in_place(input_path, output, start=start, end=end, weight=deflicker_weight)
        summary.notes.append(f"deflickered (weight {deflicker_weight:g}) in {deflickered.seconds:.1f} s")
    if quiet:
        return
    report_notes(summary.notes)
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


def _is_batch(contents, styles, output, each_style) -> bool:
    """A batch: several contents, a folder or glob of contents or styles, an output folder that exists, or --each-style."""
    from ..batch import names_several

    return len(contents) > 1 or any(names_several(name) for name in [*contents, *styles]) or Path(output).is_dir() or each_style


@dataclass(frozen=True)
class _BatchFlags:
    """What only a batch of ``videostyle image`` takes: one output per style instead of their blend, the contact
    sheet, and the Ray cluster (None: this process)."""

    each_style: bool
    sheet: bool
    ray: RaySettings | None


def _image_batch(contents, styles, output, method, device, quiet, dry_run, flags: _BatchFlags, params) -> None:
    """``videostyle image`` over many contents (x many styles) into the folder OUTPUT."""
    from ..batch import expand_pictures, item_spec, names_several, plan_batch, stylize_batch

    found = expand_pictures(contents, "content")
    style_files = [str(path) for path in expand_pictures(styles, "style").pictures] if styles else []
    each_style = flags.each_style or any(names_several(name) for name in styles)
    if each_style and params.get("style_blend"):
        raise VideostyleError("--style-blend mixes several styles into one; with --each-style (or a folder of styles) every style is used alone")
    style_sets = [(style,) for style in style_files] if each_style else [tuple(style_files)]
    spec = build_spec(method, list(style_sets[0]), params, video=False)
    items = plan_batch(found.pictures, style_sets, output, model=spec.model_or_default if spec.one_pass and spec.method != "adapt" else None)
    if found.skipped and not quiet:
        click.echo(f"note: skipped {len(found.skipped)} files that are not pictures (first: {found.skipped[0]})", err=True)
    if dry_run:
        from ..api import estimate_image

        first = items[0]
        seconds = estimate_image(first.content, item_spec(spec, first), device=device)
        tqdm.write(
            f"estimate: about {format_duration(seconds * len(items))} in all ({len(items)} pictures, {seconds:.2f} s for {first.content.name})", file=sys.stderr
        )
        return
    bar: tqdm | None = None

    def on_start(total: int, done: int) -> None:
        nonlocal bar
        if not quiet:
            bar = tqdm(total=total, initial=done, unit="picture", desc="pictures", dynamic_ncols=True)
            if done:
                tqdm.write(f"resuming: {done} pictures already done", file=sys.stderr)

    def on_item(item, outcome: str) -> None:
        if bar is not None:
            bar.update(1)
            if outcome == "failed":
                tqdm.write(f"skipped {item.content}: it cannot be read", file=sys.stderr)

    def on_step(step) -> None:
        if bar is not None:
            bar.set_postfix_str(f"iteration {step.iteration}, loss {step.loss:.4g}")

    adapting = AdaptProgress(quiet)
    try:
        summary = stylize_batch(
            items, spec, output, device=device, ray=flags.ray, sheet=flags.sheet, on_start=on_start, on_item=on_item, on_step=on_step, on_adapt=adapting.on_step
        )
    finally:
        adapting.close()
        if bar is not None:
            bar.close()
    if not quiet:
        made = summary.written
        rate = f", {(summary.seconds - summary.startup_seconds) / made:.2f} s each after {summary.startup_seconds:.1f} s start-up" if made else ""
        redone = f", {summary.redone} made again with the new settings" if summary.redone else ""
        sheet_note = f"; contact sheet {summary.sheet}" if summary.sheet else ""
        click.echo(f"wrote {made} pictures to {output} ({summary.already_done} already done{redone}) in {summary.seconds:.1f} s{rate}{sheet_note}", err=True)
    if summary.failed:
        raise VideostyleError(f"{len(summary.failed)} of {len(items)} pictures could not be made (the others were); first: {summary.failed[0][1]}")


def _audio_restyle(params: dict):
    """The :class:`~videostyle.audio.api.AudioRestyle` of ``--restyle-audio`` (its options consumed from ``params``), or None."""
    source, method = params.pop("restyle_audio"), params.pop("audio_method")
    bee, texture = audio_options_from(params)
    if source is None:
        return None
    from ..audio.api import AudioRestyle

    return AudioRestyle(source, method, bee, texture).check()


def _video_batch(inputs, output, spec, window: ClipWindow, run, device, quiet, dry_run, restyle_audio) -> None:
    """``videostyle video`` over several clips into the folder OUTPUT."""
    from ..batch import plan_clips, stylize_clips
    from ..pipeline import Progress

    items = plan_clips(inputs, output)
    if dry_run:
        from ..pipeline import estimate_video

        estimates = [estimate_video(item.content, item.output, spec, window=window, device=device).total_seconds for item in items]
        tqdm.write(f"estimate: about {format_duration(sum(estimates))} in all ({len(items)} clips)", file=sys.stderr)
        return
    bars: list[FrameProgress] = []
    adapting = AdaptProgress(quiet)

    def progress_for(item) -> Progress:
        if bars:
            bars[-1].close()
        bars.append(FrameProgress(quiet))
        if not quiet:
            tqdm.write(f"clip {len(bars)}: {item.content} -> {item.output}", file=sys.stderr)
        return Progress(bars[-1].on_start, bars[-1].on_frame, bars[-1].on_step, None, adapting.on_step)

    def on_start(total: int, done: int) -> None:
        if done and not quiet:
            tqdm.write(f"resuming: {done} of {total} clips already done", file=sys.stderr)

    try:
        summary = stylize_clips(
            items,
            spec,
            output,
            window=window,
            run=run,
            device=device,
            progress_for=progress_for,
            on_start=on_start,
            restyle_audio=restyle_audio,
        )
    finally:
        adapting.close()
        for bar in bars:
            bar.close()
    if not quiet:
        redone = f", {summary.redone} made again with the new settings" if summary.redone else ""
        click.echo(f"wrote {summary.written} clips to {output} ({summary.already_done} already done{redone}) in {summary.seconds:.1f} s", err=True)
    if summary.failed:
        raise VideostyleError(f"{len(summary.failed)} of {len(items)} clips could not be made (the others were); first: {summary.failed[0][1]}")


def report_estimate(total: float, estimate, spec) -> None:
    """The estimate line (``tqdm.write``, so progress bars stay whole), and a hint when the run is long."""
    detail = ""
    if estimate is not None and estimate.seconds_per_iteration:
        to_go = f", {format_duration(estimate.remaining_seconds)} to go" if estimate.remaining_seconds < estimate.total_seconds - 1 else ""
        flows = f", {estimate.seconds_per_flow:.2f} s per flow" if estimate.seconds_per_flow else ""
        detail = f"{to_go} ({estimate.frames} frames, {estimate.seconds_per_iteration:.2f} s per iteration{flows})"
    elif estimate is not None:
        detail = f" ({estimate.frames} frames)"
    tqdm.write(f"estimate: about {format_duration(total)} in all{detail}", file=sys.stderr)
    if total > LONG_RUN_SECONDS and not spec.one_pass:
        tqdm.write(
            "faster: --method arbitrary-video (any style) or a bundled --model (see 'videostyle models') take seconds, --method adapt "
            "a few minutes for a network of this style; a smaller --size helps too",
            file=sys.stderr,
        )


class FrameProgress:
    """The progress bars of 'videostyle video': frames, and iterations within a frame for optimisation."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bars: dict[str, tqdm] = {}

    def on_start(self, total: int, resumed: int) -> None:
        if not self.quiet:
            self.bars["frames"] = tqdm(total=total, unit="frame", desc="frames", dynamic_ncols=True, position=0)
            if resumed:
                tqdm.write(f"resuming: {resumed} frames already done", file=sys.stderr)

    def on_frame(self, index) -> None:
        if "frames" in self.bars:
            self.bars["frames"].update(1)

    def on_step(self, step) -> None:
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


class AdaptProgress:
    """The progress bar of a training done before the frames (method adapt, 'videostyle adapt', the keyframe
    network; ``label`` names it): steps and time left, or seconds of a ``minutes`` limit when time is what ends it."""

    def __init__(self, quiet: bool, minutes: float | None = None, label: str = "adapting"):
        self.quiet, self.minutes, self.label = quiet, minutes, label
        self.bar: tqdm | None = None

    def on_step(self, report) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = self._open(report)
            if report.step > 1:
                tqdm.write(f"{self.label}: resuming from step {report.step - 1}", file=sys.stderr)
        if self.minutes is not None:
            self.bar.update(min(report.seconds, self.bar.total) - self.bar.n)
            self.bar.set_postfix_str(f"step {report.step}, loss {report.loss:.4g}", refresh=False)
        else:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss {report.loss:.4g}", refresh=False)

    def _open(self, report) -> tqdm:
        if self.minutes is not None:
            return tqdm(total=round(self.minutes * 60), unit="s", desc=self.label, dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total} s {postfix}")
        return tqdm(total=report.steps, initial=report.step - 1, unit="step", desc=self.label, dynamic_ncols=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
