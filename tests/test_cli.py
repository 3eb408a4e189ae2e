"""The command line as a user meets it: results on success, one clean line on every error."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from videostyle.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    content = tmp_path / "content.png"
    Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(content)
    style = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(style)
    return content, style


def run_main(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


FAST = ["--size", "32", "--iterations", "2", "-q"]


def test_image_command_writes_the_output(images, tmp_path, capsys):
    content, style = images
    out = tmp_path / "out.jpg"
    code, _, err = run_main(["image", str(content), "-s", str(style), "-o", str(out), "--size", "32", "--iterations", "3"], capsys)
    assert code == 0, err
    assert Image.open(out).size == (32, 23)
    assert "wrote" in err and "iterations" in err


def test_save_every_and_two_styles(images, tmp_path, capsys):
    content, style = images
    out = tmp_path / "out.png"
    code, _, err = run_main(
        [
            "image",
            str(content),
            "-s",
            str(style),
            "-s",
            str(content),
            "--style-blend",
            "1",
            "--style-blend",
            "3",
            "-o",
            str(out),
            "--save-every",
            "2",
            "--tolerance",
            "0",
            *FAST[:4],
        ],
        capsys,
    )
    assert code == 0, err
    assert out.exists() and (tmp_path / "out_iter0002.png").exists()


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK"])
def test_grey_palette_alpha_and_cmyk_inputs_are_converted(images, tmp_path, capsys, mode):
    content, style = images
    odd = tmp_path / f"odd.{'jpg' if mode == 'CMYK' else 'png'}"
    Image.open(content).convert(mode).save(odd)
    code, _, err = run_main(["image", str(odd), "-s", str(style), "-o", str(tmp_path / "out.png"), *FAST], capsys)
    assert code == 0, err


def error_cases(tmp_path, content, style):
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    return {
        "missing content": (["image", str(tmp_path / "nope.png"), "-s", str(style)], "no such file"),
        "missing style": (["image", str(content), "-s", str(tmp_path / "nope.jpg")], "no such file"),
        "not an image": (["image", str(tmp_path / "notes.txt"), "-s", str(style)], "not an image"),
        "empty file": (["image", str(tmp_path / "empty.png"), "-s", str(style)], "not an image"),
        "missing output folder": (["image", str(content), "-s", str(style), "-o", str(tmp_path / "no" / "out.png")], "output folder does not exist"),
        "output is the content's folder": (["image", str(content), "-s", str(style), "-o", str(tmp_path)], "refusing to overwrite an input"),
        "unknown output format": (["image", str(content), "-s", str(style), "-o", str(tmp_path / "out.xyz")], "unknown image format"),
        "unknown layer": (["image", str(content), "-s", str(style), "--style-layers", "relu1_1,relu9_1"], "unknown layer 'relu9_1'"),
        "negative size": (["image", str(content), "-s", str(style), "--size", "-5"], "size must be positive"),
        "bad blend count": (["image", str(content), "-s", str(style), "--style-blend", "1", "--style-blend", "2"], "--style-blend"),
        "bad device": (["image", str(content), "-s", str(style), "--device", "tpu9"], "unknown device"),
        "missing style option": (["image", str(content)], "--style"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing content",
        "missing style",
        "not an image",
        "empty file",
        "missing output folder",
        "output is the content's folder",
        "unknown output format",
        "unknown layer",
        "negative size",
        "bad blend count",
        "bad device",
        "missing style option",
    ],
)
def test_bad_input_gives_one_line_and_no_output(images, tmp_path, capsys, case):
    content, style = images
    args, message = error_cases(tmp_path, content, style)[case]
    if "-o" not in args:
        args = [*args, "-o", str(tmp_path / "result.png")]
    before = set(tmp_path.rglob("*"))
    code, _out, err = run_main([args[0], *FAST, *args[1:]], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in err
    assert set(tmp_path.rglob("*")) == before  # nothing written, not even a temporary file


@pytest.mark.skipif(not os.path.isdir("/sys") or (os.access("/sys", os.W_OK) and os.geteuid() != 0), reason="needs a folder this user cannot create files in")
def test_unwritable_output_folder(images, capsys):
    content, style = images
    code, _, err = run_main(["image", str(content), "-s", str(style), "-o", "/sys/out.png", *FAST], capsys)
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


@pytest.fixture
def clip(tmp_path):
    from synthetic import translating_clip, write_clip

    return write_clip(tmp_path / "clip.mp4", translating_clip(4, 32, 32), tone_hz=440)


VIDEO_FAST = ["--size", "32", "--iterations", "1", "--first-iterations", "2", "--flow", "dis", "-q"]


def test_video_command_writes_a_video_with_audio(clip, images, tmp_path, capsys):
    import av

    _, style = images
    out = tmp_path / "styled.mp4"
    code, _, err = run_main(["video", str(clip), "-s", str(style), "-o", str(out), *VIDEO_FAST[:-1]], capsys)
    assert code == 0, err
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 4 and len(container.streams.audio) == 1
    assert "wrote" in err and "4 frames" in err
    assert not (tmp_path / ".styled.mp4.run").exists()  # the run folder goes once the video is whole


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "no such file"),
        ("not a video", "not a readable video"),
        ("no video stream", "no video stream"),
        ("bad format", "unknown video format"),
        ("missing folder", "output folder does not exist"),
        ("bad long-term", "--long-term"),
        ("end before start", "must be after"),
        ("missing flow folder", "flow folder does not exist"),
    ],
)
def test_video_bad_input_gives_one_line_and_no_output(clip, images, tmp_path, capsys, case, message):
    from synthetic import write_audio_only

    _, style = images
    (tmp_path / "notes.mp4").write_text("text")
    inputs = {"missing": tmp_path / "nope.mp4", "not a video": tmp_path / "notes.mp4", "no video stream": write_audio_only(tmp_path / "a.m4a")}
    source = inputs.get(case, clip)
    output = {"bad format": tmp_path / "out.xyz", "missing folder": tmp_path / "no" / "out.mp4"}.get(case, tmp_path / "out.mp4")
    extra = {
        "bad long-term": ["--long-term", "1,x"],
        "end before start": ["--start", "2", "--end", "1"],
        "missing flow folder": ["--flow-dir", str(tmp_path / "no-flows")],
    }.get(case, [])
    before = set(tmp_path.rglob("*"))
    code, _, err = run_main(["video", str(source), "-s", str(style), "-o", str(output), *VIDEO_FAST, *extra], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert set(tmp_path.rglob("*")) == before


def test_cli_defaults_match_the_library_defaults():
    from videostyle.options import IMAGE_SIZE, GatysOptions, PictureOptions, VideoOptions

    image = {param.name: param.default for param in cli.commands["image"].params}
    video = {param.name: param.default for param in cli.commands["video"].params}
    library, picture = GatysOptions(), PictureOptions()
    for name in ["preserve_color", "color_method"]:
        assert image[name] == video[name] == getattr(picture, name), name
    for name in [
        "content_weight",
        "style_weight",
        "tv_weight",
        "optimizer",
        "init",
        "style_scale",
        "tolerance",
        "seed",
        "scales",
    ]:
        assert image[name] == getattr(library, name), name
    assert (image["size"], image["iterations"]) == (IMAGE_SIZE, library.iterations)
    assert image["content_layers"] == ",".join(library.content_layers) and image["style_layers"] == ",".join(library.style_layers)
    clip = VideoOptions()
    for name in ["first_iterations", "temporal_weight", "passes", "pass_iterations", "pass_blend", "temporal_from_pass"]:
        assert video[name] == getattr(clip, name), name
    assert video["iterations"] == clip.image.iterations and video["frame_init"] == clip.frame_init


def test_a_truncated_video_gives_a_one_line_warning_and_a_shorter_output(images, tmp_path, capsys):
    from synthetic import translating_clip, write_clip

    _, style = images
    source = write_clip(tmp_path / "in.mkv", translating_clip(40, 64, 64))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    code, _, err = run_main(
        ["video", str(cut), "-s", str(style), "-o", str(tmp_path / "out.mp4"), "--size", "32", "--iterations", "1", "--first-iterations", "1", "--flow", "dis"],
        capsys,
    )
    assert code == 0, err
    import av

    with av.open(str(tmp_path / "out.mp4")) as container:
        assert 0 < container.streams.video[0].frames < 40
    assert "Traceback" not in err and "VideoWarning" not in err


def test_evaluate_writes_a_table_json_and_plot(clip, images, tmp_path, capsys):
    import json

    from synthetic import translating_clip, write_clip

    _, style = images
    stylized = write_clip(tmp_path / "same.mp4", translating_clip(4, 32, 32))
    code, out, err = run_main(
        ["evaluate", str(clip), str(stylized), "-s", str(style), "--long-gap", "2", "--json", str(tmp_path / "m.json"), "--plot", str(tmp_path / "m.png")],
        capsys,
    )
    assert code == 0, err
    assert "| short_term_error |" in out and "| style_distance |" in out
    assert f"wrote {tmp_path / 'm.json'}" in err and f"wrote {tmp_path / 'm.png'}" in err
    assert "short_term_ratio 1: the stylized clip's warping error over the input's own; as much flicker as the input" in err, err
    noise = [np.random.default_rng(frame).integers(0, 256, (32, 32, 3), dtype=np.uint8) for frame in range(4)]
    code, out, err = run_main(["evaluate", str(clip), str(write_clip(tmp_path / "noise.mp4", noise))], capsys)
    assert code == 0 and "; more flicker than the input" in err, err
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["summary"]["frames"] == 4 and len(data["per_frame"]["short_term"]) == 3
    assert Image.open(tmp_path / "m.png").size[0] > 100


def test_evaluate_refuses_clips_of_different_lengths(clip, tmp_path, capsys):
    from synthetic import translating_clip, write_clip

    shorter = write_clip(tmp_path / "short.mp4", translating_clip(3, 32, 32))
    code, _, err = run_main(["evaluate", str(clip), str(shorter), "--no-perceptual", "--json", str(tmp_path / "m.json")], capsys)
    assert code == 1 and err.startswith("error: ") and "different lengths" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.json").exists()


def test_compare_writes_a_side_by_side_video_and_a_contact_sheet(clip, tmp_path, capsys):
    import av

    from synthetic import translating_clip, write_clip

    other = write_clip(tmp_path / "other.mp4", translating_clip(4, 16, 16, seed=5))
    code, _, err = run_main(
        [
            "compare",
            str(clip),
            str(other),
            "--label",
            "in",
            "--label",
            "out",
            "-o",
            str(tmp_path / "cmp.mp4"),
            "--sheet",
            str(tmp_path / "sheet.png"),
            "--frames",
            "0,3",
        ],
        capsys,
    )
    assert code == 0, err
    with av.open(str(tmp_path / "cmp.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.frames == 4 and stream.width == 64 and len(container.streams.audio) == 1  # two 32 px panels
    assert Image.open(tmp_path / "sheet.png").size == (64, 2 * (32 + 18))


@pytest.mark.parametrize(
    "extra, message",
    [(["--frames", "9"], "past the end"), (["--label", "a"], "labels"), (["--frames", "x"], "--frames")],
)
def test_compare_bad_input_gives_one_line_and_no_output(clip, tmp_path, capsys, extra, message):
    from synthetic import translating_clip, write_clip

    other = write_clip(tmp_path / "other.mp4", translating_clip(4, 32, 32))
    before = set(tmp_path.rglob("*"))
    code, _, err = run_main(["compare", str(clip), str(other), "-o", str(tmp_path / "cmp.mp4"), "--sheet", str(tmp_path / "s.png"), *extra], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1 and message in err, err
    assert set(tmp_path.rglob("*")) == before


def test_compare_refuses_clips_of_different_lengths(clip, tmp_path, capsys):
    from synthetic import translating_clip, write_clip

    shorter = write_clip(tmp_path / "short.mp4", translating_clip(2, 32, 32))
    code, _, err = run_main(["compare", str(clip), str(shorter), "-o", str(tmp_path / "cmp.mp4")], capsys)
    assert code == 1 and "different lengths" in err
    assert not (tmp_path / "cmp.mp4").exists() and not list(tmp_path.glob(".cmp*"))


def test_dataset_then_evaluate_with_ground_truth(tmp_path, capsys):
    import json

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(photos / "a.png")
    code, _, err = run_main(["dataset", str(photos), "-o", str(tmp_path / "gt"), "--frames", "6", "--width", "48", "--height", "40", "--long-gap", "3"], capsys)
    assert code == 0, err
    gt = tmp_path / "gt"
    code, _out, err = run_main(
        ["evaluate", str(gt / "frames"), str(gt / "frames"), "--gt", str(gt), "--long-gap", "3", "--no-perceptual", "--json", str(tmp_path / "m.json")], capsys
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "m.json").read_text())["summary"]
    assert summary["frames"] == 6 and summary["short_term_ratio"] == pytest.approx(1.0)
    code, _, err = run_main(["evaluate", str(gt / "frames"), str(gt / "frames"), "--gt", str(gt), "--long-gap", "4", "--no-perceptual"], capsys)
    assert code == 1 and "ground-truth folder has no flow" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(["evaluate", str(gt / "frames"), str(gt / "frames"), "--gt", str(tmp_path / "photos")], capsys)
    assert code == 1 and "not a ground-truth folder" in err


def test_a_killed_video_run_leaves_no_partial_output_and_resumes(clip, images, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    _, style = images
    out = tmp_path / "styled.mp4"
    command = [
        sys.executable,
        "-m",
        "videostyle.cli",
        "video",
        str(clip),
        "-s",
        str(style),
        "-o",
        str(out),
        "--size",
        "32",
        "--first-iterations",
        "100000",
        "--flow",
        "dis",
        "-q",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    run = tmp_path / ".styled.mp4.run"
    deadline = time.time() + 60
    while not (run / "config.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.strip() == "interrupted"
    assert not out.exists() and not [p for p in tmp_path.iterdir() if "partial" in p.name]
    assert (run / "config.json").exists()  # kept, so the same command resumes


def test_dry_runs_print_an_estimate_and_write_nothing(clip, images, tmp_path, capsys):
    content, style = images
    before = set(tmp_path.rglob("*"))
    runs = [
        ["video", str(clip), "-s", str(style), "-o", str(tmp_path / "a.mp4"), *VIDEO_FAST, "--dry-run"],
        ["video", str(clip), "--model", "starry_night", "--size", "0", "-o", str(tmp_path / "b.mp4"), "--dry-run"],
        ["image", str(content), "-s", str(style), "-o", str(tmp_path / "c.png"), "--size", "32", "--iterations", "100000", "--dry-run"],
    ]
    for args in runs:
        code, _, err = run_main(args, capsys)
        assert code == 0 and err.startswith("estimate: about "), err
    assert "faster: --method arbitrary-video" in err  # 100000 iterations: the long-run hint names the fast methods
    assert set(tmp_path.rglob("*")) == before


def test_a_video_run_by_optimisation_prints_its_estimate_after_the_first_frame(clip, images, tmp_path, capsys):
    _, style = images
    args = ["video", str(clip), "-s", str(style), "-o", str(tmp_path / "out.mp4"), *[a for a in VIDEO_FAST if a != "-q"]]
    code, _, err = run_main(args, capsys)
    assert code == 0 and "estimate: about" in err and "s per iteration" in err, err


@pytest.fixture
def adapt_inputs(tmp_path, monkeypatch):
    from synthetic import texture, translating_clip, write_clip

    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(tmp_path / "cache"))
    style = tmp_path / "painting.png"
    Image.fromarray(texture(48, 48, seed=3)).save(style)
    return style, write_clip(tmp_path / "clip.mp4", translating_clip(7, 40, 48), lossless=True)


def test_adapt_writes_a_model_that_video_runs_and_caches_it(adapt_inputs, tmp_path, capsys):
    style, clip = adapt_inputs
    model = tmp_path / "adapted.safetensors"
    code, _, err = run_main(["adapt", str(style), "--content", str(clip), "--steps", "2", "-o", str(model)], capsys)
    assert code == 0, err
    assert "adapted in" in err and "adapting" in err and model.is_file()
    code, _, err = run_main(["adapt", str(style), "--content", str(clip), "--steps", "2"], capsys)
    assert code == 0 and "from the cache" in err
    out = tmp_path / "styled.mp4"
    code, _, err = run_main(["video", str(clip), "-m", str(model), "-o", str(out), "-q"], capsys)
    assert code == 0 and out.is_file(), err


def test_video_method_adapt_adapts_to_the_clip_then_stylizes_it(adapt_inputs, tmp_path, capsys):
    import av

    style, clip = adapt_inputs
    out = tmp_path / "styled.mp4"
    code, _, err = run_main(["video", str(clip), "-s", str(style), "--method", "adapt", "--adapt-steps", "2", "-o", str(out)], capsys)
    assert code == 0, err
    assert "adapting" in err and "7 frames" in err
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 7
    code, _, err = run_main(["video", str(clip), "-s", str(style), "--method", "adapt", "--adapt-steps", "2", "-o", str(out), "--dry-run"], capsys)
    assert code == 0 and "estimate" in err  # adapted once: the dry run times the cached network


@pytest.mark.parametrize(
    "args, message",
    [
        (["adapt", "{style}", "--minutes", "0"], "--minutes must be positive"),
        (["adapt", "{style}", "--minutes", "-2"], "--minutes must be positive"),
        (["adapt", "{tiny}"], "at least 32 pixels"),
        (["adapt", "{style}", "--content", "{missing}"], "no such file or folder to adapt on"),
        (["adapt", "{style}", "-o", "{style}"], "must end in .safetensors"),
        (["adapt", "{model}", "-o", "{model}"], "refusing to overwrite an input"),
        (["video", "{clip}", "-s", "{style}", "--method", "adapt", "--adapt-minutes", "-1", "-o", "{out}"], "--adapt-minutes must be positive"),
        (["video", "{clip}", "-s", "{style}", "--method", "adapt", "--adapt-start", "nope", "-o", "{out}"], "--adapt-start must be one of"),
        (["video", "{clip}", "-s", "{style}", "--method", "adapt", "-o", "{out}", "--dry-run"], "cannot be timed before painting.png is adapted"),
    ],
)
def test_adapt_bad_input_gives_one_line_and_writes_nothing(adapt_inputs, tmp_path, capsys, args, message):
    from synthetic import texture

    style, clip = adapt_inputs
    tiny = tmp_path / "tiny.png"
    Image.fromarray(texture(16, 16)).save(tiny)
    model = tmp_path / "painting.safetensors"
    model.write_bytes(b"a style image named .safetensors")
    names = {"style": style, "tiny": tiny, "missing": tmp_path / "none.mp4", "clip": clip, "out": tmp_path / "out.mp4", "model": model}
    code, _, err = run_main([arg.format(**names) for arg in args], capsys)
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.mp4").exists() and not list((tmp_path / "cache").rglob("[!.]*.safetensors"))


def test_the_flow_flag_offers_every_estimator_and_no_other():
    from videostyle.cli.options import FLOW_ESTIMATORS
    from videostyle.flow import ESTIMATORS

    assert sorted(FLOW_ESTIMATORS) == sorted(ESTIMATORS)
