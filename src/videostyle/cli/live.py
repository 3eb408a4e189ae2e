"""``videostyle live``: a camera, stream or file stylized as it plays, in a window or as MJPEG on localhost."""

from __future__ import annotations

import click

from .app import cli
from .options import adapt_options, blend_flags, device_option, model_options, parse_style_mix, quiet_option


@cli.command("live")
@click.option("--camera", type=int, default=None, help="A camera by number (Linux: /dev/videoN; macOS: AVFoundation device N).")
@click.option("--input", "source", default=None, help="A video file or a stream URL that ffmpeg reads (rtsp://, http://, udp://...) instead of a camera.")
@click.option(
    "--method",
    type=click.Choice(["feedforward", "reconet", "adain", "arbitrary-video", "adapt"]),
    default=None,
    help="One-pass method (default: feedforward with --model, arbitrary-video with --style).",
)
@click.option("-s", "--style", "styles", multiple=True, type=click.Path(), help="Style image(s) for adain, arbitrary-video or adapt.")
@click.option("--size", type=int, default=360, show_default=True, help="Long side of the stylized frames in pixels (0: the input's own).")
@click.option("--headless", is_flag=True, help="No window: serve the stylized stream as MJPEG on http://HOST:PORT/ (a page, /stream.mjpg, /stats).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on with --headless.")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to serve on with --headless (0: any free port).")
@click.option("--record", type=click.Path(dir_okay=False), default=None, help="Also write the stylized stream to this video file, at the input's frame rate.")
@click.option("--frames", "max_frames", type=int, default=None, help="Stop after this many stylized frames (default: until the input ends or Ctrl-C).")
@click.option("--no-rate", is_flag=True, help="Do not draw the frame rate on the frames.")
@device_option
@quiet_option("No summary.")
@model_options
@adapt_options
def live_command(camera, source, method, styles, size, headless, host, port, record, max_frames, no_rate, device, quiet, **params):
    """Stylize a camera (--camera N), a stream or a file (--input) as it plays, with a trained network:
    shown in a window, or with --headless served as MJPEG on localhost. A source slower than real time is
    stylized frame by frame; a faster one drops the frames the network cannot keep up with."""
    from ..errors import VideostyleError
    from ..live import stylize_live
    from ..options import AdaptOptions
    from ..spec import MethodSpec

    if size < 0:
        raise VideostyleError(f"size must be positive (or 0 for the input's own size), got {size}", parameter="size")
    method = method or ("arbitrary-video" if styles and not params["model"] else "feedforward")
    strength, alpha = blend_flags(method, params.pop("alpha"), params.pop("strength"))
    spec = MethodSpec(
        method=method,
        styles=list(styles),
        size=size or None,
        model=params.pop("model"),
        model_style_weights=parse_style_mix(params.pop("style_mix")),
        strength=strength,
        alpha=alpha,
        mask=params.pop("mask"),
        runtime=params.pop("runtime"),
        precision=params.pop("precision"),
        batch_size=1,
        adaptation=AdaptOptions(start=params.pop("adapt_start"), steps=params.pop("adapt_steps"), minutes=params.pop("adapt_minutes")),
    )
    params.pop("batch_size")

    def ready(where: str) -> None:
        if not quiet:
            click.echo(f"live: {where} (Ctrl-C to stop)" if where != "window" else "live: in a window (close it or Ctrl-C to stop)", err=True)

    summary = stylize_live(
        spec,
        camera=camera,
        source=source,
        mjpeg=(host, port) if headless else None,
        record=record,
        max_frames=max_frames,
        device=device,
        show_rate=not no_rate,
        on_ready=ready,
    )
    if not quiet:
        recorded = f"; recorded {record}" if record else ""
        click.echo(
            f"{summary.ended}: {summary.shown} frames stylized at {summary.frames_per_second:.1f} frames/s, {summary.dropped} dropped; "
            f"latency median {1000 * summary.latency(0.5):.0f} ms, 95th percentile {1000 * summary.latency(0.95):.0f} ms{recorded}",
            err=True,
        )
