"""``videostyle keyframes``: paint a few frames, and the clip follows (Jamriška et al. 2019)."""

from __future__ import annotations

import click

from ..errors import VideostyleError
from .app import cli
from .options import choice_option, device_option, flow_option, output_option, quiet_option, report_notes, run_folder_options, run_settings


def parse_keys(texts: tuple[str, ...]) -> dict[int, str]:
    """``("0=key0.png", "40=key40.png")`` -> ``{0: "key0.png", 40: "key40.png"}``."""
    keys: dict[int, str] = {}
    for text in texts:
        index, separator, path = text.partition("=")
        if not separator or not path or not index.strip().lstrip("-").isdigit():
            raise VideostyleError(f"--key takes FRAME=PICTURE (a 0-based frame index and the painted frame), got {text!r}")
        if int(index) in keys:
            raise VideostyleError(f"--key gives frame {int(index)} twice")
        keys[int(index)] = path
    return keys


@cli.command("keyframes")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option("--key", "keys", multiple=True, metavar="FRAME=PICTURE", help="A painted frame: its 0-based index and the picture; repeat for several.")
@output_option("Output video (.mp4, .mov, .mkv, .webm), .gif or a folder for PNG frames; with --frame, the picture to paint.")
@click.option("--frame", type=int, default=None, help="Write this frame (0-based, at --size) to -o as the picture to paint, and stop.")
@click.option("--size", type=int, default=0, show_default=True, help="Long side of the output in pixels (0: the clip's own).")
@choice_option(
    "--engine",
    ["patches", "network"],
    "patches",
    "patches: guided patch synthesis along the flow (Jamriška et al. 2019); network: a small network trained on the keyframes paints each frame (Texler et al. 2020).",
)
@click.option("--train-steps", type=int, default=None, help="Training steps of --engine network (default 600).")
@flow_option("dis")
@click.option("--edge-weight", type=float, default=1.0, show_default=True, help="Weight of the edge guide (strokes follow the frame's edges).")
@click.option("--position-weight", type=float, default=2.0, show_default=True, help="Weight of the positional guide (strokes stay on their surface).")
@click.option("--temporal-weight", type=float, default=2.0, show_default=True, help="Weight of the temporal guide (the previous output, warped).")
@choice_option(
    "--retrieval",
    ["uniform", "nearest"],
    "uniform",
    "Patch retrieval: StyLit's uniform use of the keyframe's patches, or each patch's nearest (about twice as fast, blurrier).",
)
@click.option(
    "--blend-frames",
    type=int,
    default=8,
    show_default=True,
    help="Frames around the middle between two keyframes that join both propagations; the others take the nearer keyframe's (0: a cut).",
)
@click.option("--patch-size", type=int, default=7, show_default=True, help="Side of the compared patches in pixels (odd).")
@run_folder_options("frames, propagations, flow")
@device_option
@quiet_option()
def keyframes_command(
    input_path,
    keys,
    output,
    frame,
    size,
    engine,
    train_steps,
    flow,
    edge_weight,
    position_weight,
    temporal_weight,
    retrieval,
    blend_frames,
    patch_size,
    restart,
    keep_frames,
    device,
    quiet,
):
    """Paint the clip INPUT after a few of its frames painted by hand or by any method (--key FRAME=PICTURE): each
    painted frame is carried through the clip by guided patch synthesis along the optical flow; a frame between two
    keyframes takes the nearer one's, and the two are joined around the middle (Jamriška et al. 2019, "Stylizing
    Video by Example"). With --engine network, a small network learns the painting from patches of the keyframes
    and paints each frame on its own (Texler et al. 2020). The sound is kept, and an interrupted run resumes.

    \b
    Recipe: paint frame 0 with any method, then propagate:
      videostyle keyframes clip.mp4 --frame 0 -o frame0.png
      videostyle image frame0.png -s painting.jpg --size 0 -o key0.png
      videostyle keyframes clip.mp4 --key 0=key0.png -o painted.mp4"""
    from dataclasses import replace

    from ..io.image import check_picture_destination, save_picture
    from ..keyframes import KeyframeOptions, clip_frame, propagate_keyframes
    from ..pipeline import Progress
    from .stylize import AdaptProgress, FrameProgress

    if frame is not None:
        if keys:
            raise VideostyleError("--frame writes one frame to paint; give --key on the next run")
        from PIL import Image

        check_picture_destination(output)
        save_picture(Image.fromarray(clip_frame(input_path, frame, size or None)), output)
        if not quiet:
            click.echo(f"wrote frame {frame} to {output}: paint it, then give it as --key {frame}={output}", err=True)
        return
    if not keys:
        raise VideostyleError("give at least one painted frame with --key FRAME=PICTURE (or --frame N to write one to paint)")
    defaults = KeyframeOptions()
    if train_steps is not None and engine != "network":
        raise VideostyleError("--train-steps is for --engine network")
    if train_steps is not None and train_steps < 1:
        raise VideostyleError(f"--train-steps must be at least 1, got {train_steps}")
    options = KeyframeOptions(
        engine=engine,
        training=defaults.training if train_steps is None else replace(defaults.training, steps=train_steps),
        edge_weight=edge_weight,
        position_weight=position_weight,
        temporal_weight=temporal_weight,
        flow=flow,
        blend_frames=blend_frames,
        synthesis=replace(defaults.synthesis, retrieval=retrieval, patch_size=patch_size),
    )
    bars, training = FrameProgress(quiet), AdaptProgress(quiet, label="training")
    try:
        summary = propagate_keyframes(
            input_path,
            output,
            parse_keys(keys),
            options=options,
            long_side=size or None,
            run=run_settings(restart, keep_frames),
            device=device,
            progress=Progress(bars.on_start, bars.on_frame, on_adapt=training.on_step),
        )
    finally:
        training.close()
        bars.close()
    if not quiet:
        report_notes(summary.notes)
        click.echo(
            f"wrote {output}: {summary.frames} frames ({summary.resumed_frames} from an earlier run) at {summary.width}x{summary.height} "
            f"in {summary.seconds:.1f} s" + (f"; frames kept in {summary.run_folder}" if summary.run_folder else ""),
            err=True,
        )
