"""``videostyle image`` and ``videostyle video``: build a method spec, call the library once, report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from ..errors import VideostyleError
from ..pipeline import LONG_RUN_SECONDS, format_duration
from ..spec import METHODS
from .app import cli
from .options import METHOD_HELP, adapt_options, build_spec, encoder_options, format_terms, gatys_options, model_options


@cli.command("image")
@click.argument("content", type=click.Path())
@click.option("-s", "--style", "styles", multiple=True, type=click.Path(), help="Style image; repeat to blend several styles (needed unless --model).")
@click.option("-o", "--output", required=True, type=click.Path(), help="Output image (.png, .jpg, ...).")
@gatys_options(size=512, iterations=500)
@click.option("--scales", type=int, default=1, show_default=True, help="Coarse-to-fine levels, each half the size of the next.")
@click.option("--save-every", type=int, default=0, help="Also write every N-th iterate beside the output (OUT_iter0100.png).")
@click.option("--method", type=click.Choice(METHODS), default=None, help=METHOD_HELP.format(optimize="Gatys et al.", per=""))
@click.option("--dry-run", is_flag=True, help="Time a few iterations (or one pass), print the estimated total time and exit without writing.")
@model_options
@adapt_options
@encoder_options
def image_command(content, styles, output, method, device, quiet, save_every, dry_run, **params):
    """Stylize the image CONTENT with one or more --style images (Gatys et al. 2015), or with a trained --model."""
    from ..api import stylize
    from ..io.atomic import check_writable_destination

    check_writable_destination(output)
    if Path(output).suffix.lower() not in _image_extensions():
        raise VideostyleError(f"unknown image format for output {output} (use .png, .jpg, ...)")
    spec = build_spec(method, styles, params, video=False)
    if dry_run:
        from ..api import estimate_image
        from ..io.atomic import check_not_an_input

        check_not_an_input(output, [content, *spec.styles, spec.mask])
        report_estimate(estimate_image(content, spec, device=device), None, spec)
        return
    scales = spec.optimization.image.scales
    bar = None if quiet or spec.one_pass else tqdm(total=spec.optimization.image.iterations * scales, unit="it", desc="stylizing", dynamic_ncols=True)

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
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[ADDRESS]",
    help="Spread the frames of a one-pass method over Ray workers: alone, a Ray instance on this machine; auto or HOST:PORT joins a cluster "
    "(extra videostyle[ray]).",
)
@click.option("--ray-workers", type=int, default=2, show_default=True, help="Ray workers (each loads the model once).")
@click.option("--ray-cpus-per-worker", type=float, default=1.0, show_default=True, help="CPUs each Ray worker reserves.")
@click.option("--ray-chunk-frames", type=int, default=36, show_default=True, help="Optimisation on Ray: frames per chunk (each chunk runs on one worker).")
@click.option(
    "--ray-chunk-overlap",
    type=int,
    default=None,
    help="Optimisation on Ray: frames two chunks share and cross-fade [default: 12, or the longest --long-term gap].",
)
@model_options
@adapt_options
@encoder_options
def video_command(
    input_path,
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
    ray_address,
    ray_workers,
    ray_cpus_per_worker,
    ray_chunk_frames,
    ray_chunk_overlap,
    **params,
):
    """Stylize the video INPUT (a file or a folder of frames) without flicker (Ruder et al. 2016), or with a trained --model."""
    from ..pipeline import Progress, RunSettings, stylize_video

    spec = build_spec(method, styles, params, video=True)
    if dry_run:
        from ..pipeline import estimate_video

        estimate = estimate_video(input_path, output, spec, start=start, end=end, fps=fps, device=device)
        report_estimate(estimate.total_seconds, estimate, spec)
        return
    ray = None
    if ray_address is not None:
        from ..distributed.ray_runner import RaySettings

        ray = RaySettings(ray_address, ray_workers, ray_cpus_per_worker, chunk_frames=ray_chunk_frames, chunk_overlap=ray_chunk_overlap).check()
    bars, adapting = _FrameProgress(quiet), AdaptProgress(quiet)
    on_estimate = None if quiet else lambda estimate: report_estimate(estimate.total_seconds, estimate, spec)
    try:
        summary = stylize_video(
            input_path,
            output,
            spec,
            start=start,
            end=end,
            fps=fps,
            run=RunSettings(run_dir, resume, keep_frames, ray),
            device=device,
            progress=Progress(bars.on_start, bars.on_frame, bars.on_step, on_estimate, adapting.on_step),
        )
    finally:
        adapting.close()
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


class _FrameProgress:
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
    """The progress bar of an adaptation (method adapt, 'videostyle adapt'): steps and time left, or
    seconds of a ``minutes`` limit when time is what ends it."""

    def __init__(self, quiet: bool, minutes: float | None = None):
        self.quiet, self.minutes = quiet, minutes
        self.bar: tqdm | None = None

    def on_step(self, report) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = self._open(report)
            if report.step > 1:
                tqdm.write(f"adapting: resuming from step {report.step - 1}", file=sys.stderr)
        if self.minutes is not None:
            self.bar.update(min(report.seconds, self.bar.total) - self.bar.n)
            self.bar.set_postfix_str(f"step {report.step}, loss {report.loss:.4g}", refresh=False)
        else:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss {report.loss:.4g}", refresh=False)

    def _open(self, report) -> tqdm:
        if self.minutes is not None:
            return tqdm(total=round(self.minutes * 60), unit="s", desc="adapting", dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total} s {postfix}")
        return tqdm(total=report.steps, initial=report.step - 1, unit="step", desc="adapting", dynamic_ncols=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _image_extensions() -> set[str]:
    from PIL import Image

    return set(Image.registered_extensions())
