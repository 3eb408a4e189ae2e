"""StyLit: light-path renders with Mitsuba 3 and the synthesis guided by them (small, noisy renders)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cli_runs import assert_clean_failure, run_cli
from videostyle.errors import VideostyleError
from videostyle.stylit import CHANNELS, RenderSettings, render_light_paths, scaled_channels, stylize_scene
from videostyle.synthesis import SynthesisOptions

TINY = RenderSettings(size=40, samples=4)


@pytest.fixture(scope="module")
def sphere():
    return render_light_paths(None, TINY)


def test_the_light_paths_split_the_light(sphere):
    assert set(sphere) == set(CHANNELS) and all(picture.shape == (40, 40, 3) for picture in sphere.values())
    assert float(sphere["direct diffuse"].mean()) > 0 and float(sphere["indirect 1"].mean()) > 0
    highlight = np.unravel_index(sphere["direct specular"].sum(2).argmax(), (40, 40))
    assert highlight[0] < 20 and highlight[1] < 20  # the light is up and to the left
    assert float(sphere["indirect 1"].mean()) < float(sphere["direct diffuse"].mean())


def test_a_scene_painted_after_itself_is_its_painting(sphere):
    """Target channels equal to the exemplar's: the synthesis paints the exemplar's own painting back."""
    scaled, same = scaled_channels(sphere, sphere)
    painting = (np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)
    result = stylize_scene(painting, scaled, same, SynthesisOptions(retrieval="nearest", dimensions=None))
    assert np.abs(result.astype(float) - painting)[3:-3, 3:-3].mean() < 8


def test_bad_meshes_and_exemplars_get_one_line(tmp_path, sphere, capsys):
    broken = tmp_path / "broken.obj"
    broken.write_text("v 0 0\nf 1 2 3\n")
    with pytest.raises(VideostyleError, match=r"does not load|no extent"):
        render_light_paths(broken, TINY)
    with pytest.raises(VideostyleError, match=r"not \.obj or \.ply"):
        render_light_paths(tmp_path / "model.stl", TINY)
    with pytest.raises(VideostyleError, match="no such mesh"):
        render_light_paths(tmp_path / "missing.obj", TINY)
    with pytest.raises(VideostyleError, match="painted sphere is 30x30"):
        stylize_scene(np.zeros((30, 30, 3), np.uint8), *scaled_channels(sphere, sphere))
    code, err = run_cli(["stylit", "--mesh", broken, "-o", tmp_path / "out.png", "--size", 32, "--samples", 2], capsys)
    assert_clean_failure(code, err, "does not load")
    assert not (tmp_path / "out.png").exists()


def test_the_command_renders_a_sphere_to_paint_and_paints_a_mesh(tmp_path, capsys):
    code, _ = run_cli(["stylit", "--render-sphere", "--size", 40, "--samples", 4, "-o", tmp_path / "sphere.png"], capsys)
    assert code == 0 and Image.open(tmp_path / "sphere.png").size == (40, 40)
    cube = tmp_path / "cube.obj"
    cube.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\nf 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n"
    )
    code, err = run_cli(
        [
            "stylit",
            "--exemplar",
            tmp_path / "sphere.png",
            "--mesh",
            cube,
            "--size",
            40,
            "--samples",
            4,
            "-o",
            tmp_path / "out.png",
            "--sheet",
            tmp_path / "sheet.png",
        ],
        capsys,
    )
    assert code == 0, err
    assert Image.open(tmp_path / "out.png").size == (40, 40) and (tmp_path / "sheet.png").is_file()
