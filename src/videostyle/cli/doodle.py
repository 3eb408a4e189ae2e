"""``videostyle doodle``: a painting's regions painted into a doodle's layout (Champandard 2016)."""

from __future__ import annotations

import click
from tqdm import tqdm

from .app import cli
from .options import device_option, flow_option, output_option, path_option, quiet_option, report_notes, run_folder_options, run_settings


@cli.command("doodle")
@click.option("-s", "--style", required=True, type=click.Path(), help="The painting.")
@click.option("--style-map", required=True, type=click.Path(), help="The painting's semantic map: its regions painted in a few flat colours.")
@path_option("--map", "doodle", required=True, help="The doodle: the new layout, in the style map's colours; a folder of them (or a video) for a doodle video.")
@output_option("Output image (.png, .jpg, ...), the doodle's shape.")
@click.option(
    "--content",
    type=click.Path(),
    default=None,
    help="A photo (a clip, for a doodle video) to keep under the doodle's regions (default: painted from the doodle alone).",
)
@click.option(
    "--map-weight", type=float, default=10.0, show_default=True, help="Weight of the map channels in the patch matching (x the layer's mean activation)."
)
@click.option("--size", type=int, default=384, show_default=True, help="Long side of the output in pixels.")
@click.option("--iterations", type=int, default=300, show_default=True)
@click.option("--mrf-weight", type=float, default=1.0, show_default=True, help="Weight of the MRF loss.")
@click.option("--content-weight", type=float, default=1.0, show_default=True, help="Weight of the content loss (with --content).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--later-iterations", type=int, default=100, show_default=True, help="A doodle video: iterations of each frame after the first.")
@click.option("--temporal-weight", type=float, default=2e5, show_default=True, help="A doodle video: weight of the temporal loss (Ruder et al.).")
@flow_option("dis", "A doodle video: optical flow.")
@click.option("--fps", type=float, default=None, help="A doodle video from a folder of maps: its frame rate (default 25).")
@run_folder_options("frames and flow", applies="A doodle video: ")
@device_option
@quiet_option()
def doodle_command(
    style,
    style_map,
    doodle,
    output,
    content,
    map_weight,
    size,
    iterations,
    mrf_weight,
    content_weight,
    seed,
    later_iterations,
    temporal_weight,
    flow,
    fps,
    restart,
    keep_frames,
    device,
    quiet,
):
    """Paint the doodle --map with the regions of the painting --style: each colour of the doodle takes
    its texture from the region of that colour in --style-map (neural doodle, Champandard 2016, with
    the MRF loss of Li and Wand 2016).

    A folder of doodles (or a video of them) as --map makes a doodle video (-o a video file), held
    together by Ruder et al.'s warped start and temporal loss; --content is then a clip."""
    from dataclasses import replace
    from pathlib import Path

    from ..doodle import DOODLE_OPTIONS, paint_doodle, paint_doodle_video
    from ..io.video import VIDEO_SUFFIXES
    from ..options import VideoOptions

    options = replace(
        DOODLE_OPTIONS,
        size=size,
        iterations=iterations,
        map_weight=map_weight,
        mrf_weight=mrf_weight,
        content_weight=content_weight if content else 0.0,
        seed=seed,
    )
    if Path(doodle).is_dir() or Path(doodle).suffix.lower() in (*VIDEO_SUFFIXES, ".gif", ".avi"):
        bar = None if quiet else tqdm(unit="it", desc="painting frames", dynamic_ncols=True)

        def each_iteration(frame, step) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"frame {frame + 1} loss {step.loss:.4g}", refresh=False)

        try:
            summary = paint_doodle_video(
                style,
                style_map,
                doodle,
                output,
                content=content,
                options=VideoOptions(
                    image=replace(options, iterations=later_iterations), first_iterations=iterations, temporal_weight=temporal_weight, flow=flow
                ),
                fps=fps,
                device=device,
                callback=each_iteration,
                run=run_settings(restart, keep_frames),
            )
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            report_notes(summary.notes, f"wrote {output} ({summary.frames} frames) in {summary.seconds:.1f} s")
        return
    bar = None if quiet else tqdm(total=iterations, unit="it", desc="painting", dynamic_ncols=True)

    def each_step(scale, step) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"loss {step.loss:.4g}", refresh=False)

    try:
        result, notes = paint_doodle(style, style_map, doodle, content=content, output=output, options=options, device=device, callback=each_step)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        report_notes(notes)
        height, width = result.image.shape[-2:]
        click.echo(f"wrote {output} ({width}x{height}) in {result.seconds:.1f} s, {result.iterations} iterations", err=True)
