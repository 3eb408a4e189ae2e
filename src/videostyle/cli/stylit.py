"""``videostyle stylit``: a 3D scene painted after a painted sphere (Fišer et al. 2016)."""

from __future__ import annotations

import click

from ..errors import VideostyleError
from .app import cli
from .options import device_option, output_option, quiet_option


@cli.command("stylit")
@click.option(
    "--exemplar",
    type=click.Path(),
    default=None,
    help="The painted sphere: the picture from --render-sphere, painted (default: the bundled one, after Starry Night).",
)
@click.option(
    "--mesh", type=click.Path(), default=None, help="The target: a mesh file (.obj or .ply), placed on the ground plane (default: the bundled scene)."
)
@output_option("Output picture (.png, .jpg, ...).")
@click.option("--render-sphere", is_flag=True, help="Write the sphere's render (at --size) to -o, the picture to paint, and stop.")
@click.option("--size", type=int, default=256, show_default=True, help="Side of the target's render in pixels.")
@click.option("--samples", type=int, default=128, show_default=True, help="Paths per pixel of the renders (more: less noise, slower).")
@click.option("--plain", is_flag=True, help="Guide by the full render only (image analogies), not the light-path channels.")
@click.option("--sheet", type=click.Path(), default=None, help="Also write a sheet: the exemplar, both scenes' channels and the result.")
@device_option
@quiet_option("No summary.")
def stylit_command(exemplar, mesh, output, render_sphere, size, samples, plain, sheet, device, quiet):
    """Paint a 3D scene in the hand of a painted sphere (StyLit, Fišer et al. 2016): both scenes are rendered into
    light-path channels (full, direct diffuse, direct specular, two indirect bounces) with Mitsuba 3, and every patch
    of the scene takes the painted patch of the sphere whose light does the same thing.

    \b
    Recipe:
      videostyle stylit --render-sphere -o sphere.png      # paint it by hand, or:
      videostyle image sphere.png -s painting.jpg --size 0 -o painted.png
      videostyle stylit --exemplar painted.png --mesh model.obj -o scene.png"""
    import time

    import numpy as np
    from PIL import Image

    from ..checks import check_positive
    from ..devices import resolve_device
    from ..io.atomic import check_not_an_input
    from ..io.image import check_picture_destination, load_image, save_picture
    from ..serve.jobs import samples_folder
    from ..stylit import BUNDLED_SCENE, CHANNELS, RenderSettings, as_picture, render_light_paths, scaled_channels, sphere_to_paint, stylize_scene

    check_positive("size", size)
    check_positive("samples", samples)
    check_picture_destination(output)
    if sheet is not None:
        check_picture_destination(sheet, "--sheet")
    check_not_an_input(output, [exemplar, mesh])
    started = time.perf_counter()
    if render_sphere:
        save_picture(Image.fromarray(sphere_to_paint(RenderSettings(size, samples))), output)
        if not quiet:
            click.echo(f"wrote the sphere's render to {output}: paint it, then give it as --exemplar", err=True)
        return
    painting = np.asarray(load_image(exemplar if exemplar is not None else samples_folder() / "stylit_sphere.png"))
    if painting.shape[0] != painting.shape[1]:
        raise VideostyleError(f"--exemplar is {painting.shape[1]}x{painting.shape[0]}; the sphere is rendered square (paint the --render-sphere picture)")
    sphere = render_light_paths(None, RenderSettings(painting.shape[0], samples))
    target = render_light_paths(mesh if mesh is not None else BUNDLED_SCENE, RenderSettings(size, samples))
    sphere, target = scaled_channels(sphere, target)
    result = stylize_scene(painting, sphere, target, channels=("full",) if plain else CHANNELS, device=resolve_device(device))
    save_picture(Image.fromarray(result), output)
    if sheet is not None:
        from ..io.sheet import save_labelled_grid

        rows = [
            [Image.fromarray(painting), *(Image.fromarray(as_picture(sphere[name])) for name in CHANNELS)],
            [Image.fromarray(result), *(Image.fromarray(as_picture(target[name])) for name in CHANNELS)],
        ]
        save_labelled_grid(["painted / result", *CHANNELS], rows, 192, sheet)
    if not quiet:
        click.echo(f"wrote {output} ({size}x{size}) in {time.perf_counter() - started:.1f} s", err=True)
