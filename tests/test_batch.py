"""Batches: ``videostyle image FOLDER_OR_GLOB ... -o OUT_DIR`` and ``videostyle video CLIP CLIP ... -o OUT_DIR``.

Each output equals the single-picture command's; a rerun skips what is done and redoes what a changed
setting changes; bad items are skipped and counted; nothing that a batch did not write is overwritten."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_runs import assert_clean_failure, run_cli
from synthetic import translating_clip, write_clip
from videostyle.batch import MANIFEST, SHEET, expand_pictures, plan_batch
from videostyle.errors import VideostyleError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
MODEL = ["--model", "starry_night", "--size", "48", "-q"]


@pytest.fixture
def photos(tmp_path):
    """Three small pictures and a text file in one folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("grace_hopper", "wesnoth_bridge", "graffiti"):
        Image.open(ASSETS / f"{name}.jpg").convert("RGB").resize((64, 48)).save(folder / f"{name}.jpg")
    (folder / "notes.txt").write_text("not a picture")
    return folder


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_expand_pictures_skips_and_counts_other_files_and_refuses_empty_places(photos, tmp_path):
    found = expand_pictures([photos])
    assert [path.name for path in found.pictures] == ["grace_hopper.jpg", "graffiti.jpg", "wesnoth_bridge.jpg"]
    assert [path.name for path in found.skipped] == ["notes.txt"]
    assert [path.name for path in expand_pictures([str(photos / "g*.jpg"), photos / "graffiti.jpg"]).pictures] == ["grace_hopper.jpg", "graffiti.jpg"]
    (tmp_path / "empty").mkdir()
    for bad, message in [
        (tmp_path / "empty", "no pictures in the folder"),
        (str(tmp_path / "*.png"), "no pictures in the pattern"),
        (tmp_path / "nope", "no such"),
    ]:
        with pytest.raises(VideostyleError, match=message):
            expand_pictures([bad])


def test_plan_names_pairs_and_tells_shared_names_apart(tmp_path):
    contents = [Path("a/x.jpg"), Path("b/x.png"), Path("a/y.jpg")]
    single = plan_batch(contents, [()], tmp_path)
    assert [item.output.name for item in single] == ["x.png", "x-2.png", "y.png"]
    pairs = plan_batch(contents[:1], [("s/starry.jpg",), ("s/ink.jpg",), ("s/starry.jpg", "s/ink.jpg")], tmp_path)
    assert [item.output.name for item in pairs] == ["x--starry.png", "x--ink.png", "x--starry+ink.png"]
    assert {item.label for item in plan_batch(contents, [()], tmp_path, model="starry_night_lean")} == {"starry_night_lean"}  # the sheet's column
    assert {item.label for item in plan_batch(contents, [()], tmp_path, model="runs/my_style.safetensors")} == {"my_style"}


def test_folder_batch_equals_single_runs_resumes_and_redoes_changed_settings(photos, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run_cli(["image", photos, "-o", out, *MODEL], capsys)
    assert code == 0, err
    assert sorted(path.name for path in out.iterdir()) == sorted([MANIFEST, SHEET, "grace_hopper.png", "graffiti.png", "wesnoth_bridge.png"])
    for name in ("grace_hopper", "graffiti"):
        assert run_cli(["image", photos / f"{name}.jpg", "-o", tmp_path / f"{name}.png", *MODEL], capsys)[0] == 0
        np.testing.assert_array_equal(pixels(out / f"{name}.png"), pixels(tmp_path / f"{name}.png"))
    sheet = Image.open(out / SHEET)
    assert sheet.height == 16 + 3 * 128 and sheet.width >= 2 * 128  # a row per content: the content, then its output

    written = {path.name: path.stat().st_mtime_ns for path in out.glob("*.png") if path.name != SHEET}
    code, err = run_cli(["image", photos, "-o", out, "--model", "starry_night", "--size", "48"], capsys)
    assert code == 0 and "wrote 0 pictures" in err and "3 already done" in err, err
    assert {name: (out / name).stat().st_mtime_ns for name in written} == written

    code, err = run_cli(["image", photos, "-o", out, "--model", "starry_night", "--size", "48", "--strength", "0.5"], capsys)
    assert code == 0 and "wrote 3 pictures" in err and "3 made again" in err, err
    assert not np.array_equal(pixels(out / "graffiti.png"), pixels(tmp_path / "graffiti.png"))


def test_each_style_makes_every_content_style_pair(photos, tmp_path, capsys):
    styles = ["-s", ASSETS / "starry_night.jpg", "-s", ASSETS / "wesnoth_jevyan.jpg", "--each-style"]
    code, err = run_cli(
        ["image", photos / "graffiti.jpg", photos / "grace_hopper.jpg", "-o", tmp_path / "pairs", "--method", "adain", *styles, "--size", "48", "-q"], capsys
    )
    assert code == 0, err
    made = sorted(path.name for path in (tmp_path / "pairs").glob("*--*.png"))
    assert made == ["grace_hopper--starry_night.png", "grace_hopper--wesnoth_jevyan.png", "graffiti--starry_night.png", "graffiti--wesnoth_jevyan.png"]
    assert not np.array_equal(pixels(tmp_path / "pairs" / made[0]), pixels(tmp_path / "pairs" / made[1]))
    code, err = run_cli(["image", photos, "-o", tmp_path / "blend", "--method", "adain", *styles, "--style-blend", "1", "--style-blend", "1"], capsys)
    assert_clean_failure(code, err, "--style-blend")


def test_an_unreadable_picture_is_skipped_the_others_made_and_the_exit_says_so(photos, tmp_path, capsys):
    (photos / "broken.png").write_bytes(b"not a png at all")
    code, err = run_cli(["image", photos, "-o", tmp_path / "out", *MODEL], capsys)
    assert_clean_failure(code, err, "1 of 4 pictures could not be made")
    assert "broken.png" in err and "notes.txt" not in err.splitlines()[-1]
    assert sorted(path.name for path in (tmp_path / "out").glob("*.png")) == [SHEET, "grace_hopper.png", "graffiti.png", "wesnoth_bridge.png"]
    assert "broken" not in json.loads((tmp_path / "out" / MANIFEST).read_text())["outputs"]


def test_nothing_a_batch_did_not_write_is_overwritten(photos, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "graffiti.png").write_bytes(b"the user's own file")
    code, err = run_cli(["image", photos, "-o", out, *MODEL], capsys)
    assert_clean_failure(code, err, "was not written by a videostyle batch")
    assert (out / "graffiti.png").read_bytes() == b"the user's own file" and not (out / MANIFEST).exists()
    for name in ("grace_hopper", "graffiti"):  # the output folder is the input folder: the outputs would be new .png files beside them
        Image.open(photos / f"{name}.jpg").save(photos / f"{name}.png")
    before = {path.name: path.read_bytes() for path in photos.iterdir()}
    code, err = run_cli(["image", photos / "grace_hopper.png", photos / "graffiti.jpg", "-o", photos, *MODEL], capsys)
    assert_clean_failure(code, err)
    assert {path.name: path.read_bytes() for path in photos.iterdir()} == before
    code, err = run_cli(["image", photos, "-o", tmp_path / "out2", "-s", ASSETS / "starry_night.jpg", "--save-every", "2"], capsys)
    assert_clean_failure(code, err, "--save-every")


def test_several_clips_make_one_output_each_and_a_rerun_skips_them(tmp_path, capsys):
    clips = [write_clip(tmp_path / f"{name}.mp4", translating_clip(6, 32, 48, seed=seed)) for seed, name in enumerate(("one", "two"))]
    out = tmp_path / "clips"
    code, err = run_cli(["video", *clips, "-o", out, *MODEL], capsys)
    assert code == 0, err
    assert sorted(path.name for path in out.glob("*.mp4")) == ["one.mp4", "two.mp4"]
    stamps = [path.stat().st_mtime_ns for path in sorted(out.glob("*.mp4"))]
    code, err = run_cli(["video", str(tmp_path / "*.mp4"), "-o", out, "--model", "starry_night", "--size", "48"], capsys)
    assert code == 0 and "2 already done" in err, err
    assert [path.stat().st_mtime_ns for path in sorted(out.glob("*.mp4"))] == stamps
    code, err = run_cli(["video", *clips, "-o", out, *MODEL, "--run-dir", tmp_path / "run"], capsys)
    assert_clean_failure(code, err, "--run-dir")


def test_a_batch_into_a_file_or_a_missing_parent_is_refused(photos, tmp_path, capsys):
    (tmp_path / "file.png").write_bytes(b"x")
    bad = [(tmp_path / "file.png", "is a file"), (tmp_path / "new.png", "names a picture or a video file"), (tmp_path / "no" / "such", "parent does not exist")]
    for out, message in bad:
        code, err = run_cli(["image", photos, "-o", out, *MODEL], capsys)
        assert_clean_failure(code, err, message)
    assert not os.path.exists(tmp_path / "no") and not os.path.exists(tmp_path / "new.png")
