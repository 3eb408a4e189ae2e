"""``videostyle audio``: a sound rebuilt from another's (Let it Bee), or given its spectral texture."""

from __future__ import annotations

import click
from tqdm import tqdm

from .app import cli
from .options import choice_option, quiet_option, report_notes


def audio_method_options(function):
    """Options of the sound methods, shared by ``audio`` and ``video --restyle-audio`` (the paper's names and defaults)."""
    from ..audio.letitbee import LetItBeeOptions
    from ..audio.texture import TextureOptions
    from .options import stacked

    bee, texture = LetItBeeOptions(), TextureOptions()
    options = [
        click.option(
            "--audio-iterations", type=int, default=None, help=f"Iterations [default: {bee.iterations} for letitbee (L), {texture.iterations} for texture]."
        ),
        click.option(
            "--repetition", type=int, default=bee.repetition, show_default=True, help="letitbee: repetition restriction r, frames either side (0: off)."
        ),
        click.option(
            "--polyphony", type=int, default=bee.polyphony, show_default=True, help="letitbee: polyphony restriction p, source frames at once (0: off)."
        ),
        click.option(
            "--continuity", type=int, default=bee.continuity, show_default=True, help="letitbee: continuity enhancement c, diagonal half-length (0: off)."
        ),
        click.option("--filters", type=int, default=texture.filters, show_default=True, help="texture: filters of the random convolution."),
        click.option("--audio-style-weight", type=float, default=texture.style_weight, show_default=True, help="texture: weight of the Gram (style) loss."),
        click.option("--audio-content-weight", type=float, default=texture.content_weight, show_default=True, help="texture: weight of the content loss."),
    ]
    return stacked(options)(function)


def audio_options_from(params: dict):
    """``(LetItBeeOptions, TextureOptions)`` from the options above (consumed from ``params``)."""
    from ..audio.letitbee import LetItBeeOptions
    from ..audio.texture import TextureOptions

    iterations = params.pop("audio_iterations")
    bee = LetItBeeOptions(
        iterations=iterations or LetItBeeOptions.iterations,
        repetition=params.pop("repetition"),
        polyphony=params.pop("polyphony"),
        continuity=params.pop("continuity"),
    )
    texture = TextureOptions(
        iterations=iterations or TextureOptions.iterations,
        filters=params.pop("filters"),
        style_weight=params.pop("audio_style_weight"),
        content_weight=params.pop("audio_content_weight"),
    )
    return bee.check(), texture.check()


@cli.command("audio")
@click.argument("target", type=click.Path())
@click.option("--source", required=True, type=click.Path(), help="The sound to rebuild TARGET from (any audio file, or a video's soundtrack).")
@click.option("-o", "--output", required=True, type=click.Path(), help="Output sound (.wav, .flac, .ogg), at TARGET's rate and length.")
@choice_option(
    "--method",
    ["letitbee", "texture"],
    "letitbee",
    "letitbee: NMF mosaicing of the source's frames (Driedger et al. 2015); texture: the source's spectral texture (Ulyanov and Lebedev 2016).",
)
@click.option("--start", type=float, default=None, help="Start of TARGET in seconds.")
@click.option("--end", type=float, default=None, help="End of TARGET in seconds.")
@audio_method_options
@quiet_option()
def audio_command(target, source, output, method, start, end, quiet, **params):
    """Rebuild the sound TARGET from the sound of --source: Let it Bee (the source's own frames, played in
    time with the target) or spectrogram texture transfer. Stereo is processed as mono; the source is
    resampled to the target's rate."""
    from ..audio.api import stylize_audio

    bee, texture = audio_options_from(params)
    bar: tqdm | None = None

    def on_progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="it", desc=method, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        result = stylize_audio(target, source, output, method=method, letitbee=bee, texture=texture, start=start, end=end, on_progress=on_progress)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        report_notes(result.notes, f"wrote {output}: {result.sound.seconds:.2f} s at {result.sound.rate} Hz with {method} in {result.seconds:.1f} s")
