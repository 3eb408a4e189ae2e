"""Fault injection: bad and damaged inputs, hostile numbers, corrupt caches and model files, unwritable
places, an output that is an input, kills at random points followed by resume, and two runs of one output.

Every case asserts what a user must see: a non-zero exit with one ``error:`` line (never "unexpected",
never a traceback) and nothing written, or success with a one-line note; inputs are never changed.
The kill and concurrency drills run the real command in real processes.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_runs import assert_clean_failure, run_cli
from synthetic import texture, translating_clip, write_clip

ASSETS = Path(__file__).resolve().parents[2] / "assets"
STYLE = ASSETS / "starry_night.jpg"
VIDEO_OPT = ["--size", "32", "--first-iterations", "3", "--iterations", "2", "--flow", "dis", "-q"]
IMAGE_OPT = ["--size", "32", "--iterations", "2", "-q"]
METHODS = {  # the method options of each command, for the parametrised cases
    "optimize": ["-s", str(STYLE)],
    "model": ["--model", "starry_night"],
    "adain": ["--method", "adain", "-s", str(STYLE)],
    "arbitrary-video": ["--method", "arbitrary-video", "-s", str(STYLE)],
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def media(tmp_path):
    content = tmp_path / "photo.png"
    Image.fromarray(texture(40, 48, seed=1)).save(content)
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(6, 32, 32), tone_hz=440)
    return content, clip


# --- 1. an output that is an input: refused before anything is written, the input unchanged -------------


def _spellings(path: Path, tmp_path: Path) -> list[Path]:
    link = tmp_path / f"link-to-{path.name}"
    link.symlink_to(path)
    return [path, link, path.parent / "." / path.name, path.parent / ".." / path.parent.name / path.name]


def assert_refused_in_every_spelling(command: str, source: Path, method_args: list, options: list, tmp_path: Path, capsys) -> None:
    """``command SOURCE ... -o OUT`` with OUT the source itself, in four spellings: refused, nothing changed."""
    for output in _spellings(source, tmp_path):
        before = snapshot(tmp_path)
        code, err = run_cli([command, source, *method_args, "-o", output, *options], capsys)
        assert_clean_failure(code, err, "refusing to overwrite an input")
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("method", sorted(METHODS))
def test_image_output_equal_to_an_input_is_refused(method, media, tmp_path, capsys):
    content, _ = media
    assert_refused_in_every_spelling("image", content, METHODS[method], IMAGE_OPT, tmp_path, capsys)
    style_copy = tmp_path / "style.png"
    Image.open(STYLE).save(style_copy)
    if method != "model":
        args = [a if a != str(STYLE) else style_copy for a in METHODS[method]]
        code, err = run_cli(["image", content, *args, "-o", style_copy, *IMAGE_OPT], capsys)
        assert_clean_failure(code, err, "refusing to overwrite an input")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_video_output_equal_to_the_input_is_refused(method, media, tmp_path, capsys):
    _, clip = media
    assert_refused_in_every_spelling("video", clip, METHODS[method], VIDEO_OPT, tmp_path, capsys)


def test_evaluate_compare_and_train_never_overwrite_an_input(media, tmp_path, capsys):
    content, clip = media
    cases = [
        ["evaluate", clip, clip, "--no-perceptual", "--json", clip],
        ["evaluate", clip, clip, "-s", content, "--plot", tmp_path / "." / "photo.png"],
        ["compare", clip, clip, "-o", clip],
        ["compare", clip, clip, "--sheet", tmp_path / "link.png"],
    ]
    (tmp_path / "link.png").symlink_to(content)
    cases[-1][2] = content  # the first clip is the photo's path: the sheet, through a link, is that photo
    cases.append(["train", "-s", STYLE, "-d", content, "--init", tmp_path / "m.safetensors", "-o", tmp_path / "m.safetensors", "-q"])
    from videostyle.models.files import bundled_models

    (tmp_path / "m.safetensors").write_bytes(bundled_models()["starry_night"].read_bytes())
    for args in cases:
        before = snapshot(tmp_path)
        code, err = run_cli(args, capsys)
        assert_clean_failure(code, err)
        assert "input" in err, err
        assert snapshot(tmp_path) == before


# --- 2. hostile numbers: one line, nothing written ---------------------------------------------------------

HOSTILE = [
    (["image", "CONTENT", *METHODS["optimize"], "--style-weight", "nan"], "--style-weight must be a finite number"),
    (["image", "CONTENT", *METHODS["optimize"], "--style-weight", "inf"], "--style-weight must be a finite number"),
    (["image", "CONTENT", *METHODS["optimize"], "--tv-weight", "-1"], "--tv-weight must be non-negative"),
    (["image", "CONTENT", *METHODS["optimize"], "--lr", "nan"], "--lr must be a finite number"),
    (["image", "CONTENT", *METHODS["optimize"], "--size", "100000"], "--size must be at most"),
    (["image", "CONTENT", *METHODS["optimize"], "--style-scale", "0"], "--style-scale must be positive"),
    (["image", "CONTENT", *METHODS["optimize"], "--scales", "2", "--coarse-iterations", "-1"], "--coarse-iterations must be >= 0"),
    (["image", "CONTENT", *METHODS["model"], "--strength", "nan"], "--strength must be a finite number"),
    (["image", "CONTENT", *METHODS["model"], "--batch-size", "0"], "--batch-size must be positive"),
    (["image", "CONTENT", *METHODS["model"], "--batch-size", "-3"], "--batch-size must be positive"),
    (["image", "CONTENT", *METHODS["adain"], "--alpha", "inf"], "--alpha must be a finite number"),
    (["video", "CLIP", *METHODS["optimize"], "--temporal-weight", "nan"], "--temporal-weight must be a finite number"),
    (["video", "CLIP", *METHODS["optimize"], "--pass-blend", "2"], "--pass-blend must be between 0 and 1"),
    (["video", "CLIP", *METHODS["model"], "--end", "nan"], "--end must be a finite number"),
    (["video", "CLIP", *METHODS["model"], "--start", "-1"], "--start must be non-negative"),
    (["video", "CLIP", *METHODS["model"], "--start", "50"], "is at or beyond the end"),
    (["video", "FOLDER", *METHODS["model"], "--fps", "0"], "--fps must be positive"),
    (["video", "FOLDER", *METHODS["model"], "--fps", "-5"], "--fps must be positive"),
    (["video", "FOLDER", *METHODS["model"], "--fps", "nan"], "--fps must be a finite number"),
    (["compare", "CLIP", "CLIP", "--sheet", "OUT.png", "--height", "100000"], "--height must be at most"),
    (["evaluate", "CLIP", "CLIP", "--no-perceptual", "--plot", "OUT.xyz"], "--plot is written as PNG"),
    (["compare", "CLIP", "CLIP", "--sheet", "OUT.xyz"], "--sheet is written as PNG"),
]


@pytest.mark.parametrize("args, message", HOSTILE, ids=[" ".join(a[2:] if a[0] != "compare" else a[3:]) for a, _ in HOSTILE])
def test_hostile_numbers_and_names_give_one_line(args, message, media, tmp_path, capsys):
    content, clip = media
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(texture(32, 32, seed=index)).save(folder / f"f{index}.png")
    values = {"CONTENT": content, "CLIP": clip, "FOLDER": folder}
    args = [values.get(a, a) for a in args]
    args = [tmp_path / a if isinstance(a, str) and a.startswith("OUT.") else a for a in args]
    if args[0] in ("image", "video"):
        args += ["-o", tmp_path / ("out.png" if args[0] == "image" else "out.mp4"), "-q"]
    before = snapshot(tmp_path)
    code, err = run_cli(args, capsys)
    assert_clean_failure(code, err, message)
    assert snapshot(tmp_path) == before


# --- 3. bad and damaged files -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["optimize", "model", "adain", "arbitrary-video"])
@pytest.mark.parametrize("side", [1, 3])
def test_tiny_pictures_are_refused_by_every_method(method, side, tmp_path, capsys):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (side, side), (200, 30, 30)).save(tiny)
    code, err = run_cli(["image", tiny, *METHODS[method], "--size", "0", "-o", tmp_path / "out.png", "-q"], capsys)
    assert_clean_failure(code, err, "stylizing needs at least 16 pixels")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("side", [1, 3])
def test_tiny_pictures_by_optimisation_are_stylized(optimizer, side, tmp_path, capsys):
    """A 1 x 1 picture's gradient is an expanded tensor that L-BFGS could not view flat: it runs like any other."""
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (side, side), (200, 30, 30)).save(tiny)
    code, err = run_cli(["image", tiny, *METHODS["optimize"], "--optimizer", optimizer, "-o", tmp_path / "out.png", *IMAGE_OPT], capsys)
    assert code == 0, err
    assert Image.open(tmp_path / "out.png").size == (32, 32)


@pytest.mark.parametrize("command", ["image", "video"])
def test_out_of_device_memory_is_one_line_naming_the_size_and_tile(command, media, tmp_path, capsys, monkeypatch):
    """PyTorch's OutOfMemoryError (raised here where a GPU would raise it) ends as one line, nothing written."""
    import torch

    from videostyle.methods.feedforward import FeedForwardStylizer

    def out_of_memory(self, content):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.11 GiB total capacity; ...)")

    monkeypatch.setattr(FeedForwardStylizer, "stylize_tensor", out_of_memory)
    content, clip = media
    source, out, size = (content, tmp_path / "out.png", "48x40") if command == "image" else (clip, tmp_path / "out.mp4", "32x32")
    code, err = run_cli([command, source, *METHODS["model"], "--size", "0", "-o", out, "-q"], capsys)
    assert_clean_failure(code, err, f"out of memory on cpu for a {size} picture: give --tile (512 or less)")
    assert not out.exists() and _leftovers(tmp_path) == []


def _flo(path: Path, width: int, height: int, values: np.ndarray | None = None) -> None:
    data = np.zeros((max(height, 1), max(width, 1), 2), "<f4") if values is None else values.astype("<f4")
    with open(path, "wb") as handle:
        np.array([202021.25], "<f4").tofile(handle)
        np.array([width, height], "<i4").tofile(handle)
        data.tofile(handle)


@pytest.mark.parametrize("damage", ["nan", "huge", "negative size", "giant header"])
def test_damaged_flow_files_are_refused(damage, media, tmp_path, capsys):
    _, clip = media
    flows = tmp_path / "flows"
    flows.mkdir()
    field = np.zeros((32, 32, 2))
    if damage == "nan":
        field[3, 3, 0] = np.nan
        _flo(flows / "000000_000001.flo", 32, 32, field)
    elif damage == "huge":
        field[:] = 1e7
        _flo(flows / "000000_000001.flo", 32, 32, field)
    else:  # a header alone: its data would never fit
        with open(flows / "000000_000001.flo", "wb") as handle:
            np.array([202021.25], "<f4").tofile(handle)
            np.array([-5, 32] if damage == "negative size" else [100000, 100000], "<i4").tofile(handle)
    code, err = run_cli(["video", clip, *METHODS["optimize"], "--flow-dir", flows, "-o", tmp_path / "out.mp4", *VIDEO_OPT], capsys)
    assert_clean_failure(code, err, "damaged .flo file")
    assert not (tmp_path / "out.mp4").exists()
    # the first frame needs no flow: it is kept for a resume once the flow is mended, and nothing else
    assert sorted(p.name for p in (tmp_path / ".out.mp4.run" / "frames").iterdir()) == ["out_000001.png"]


@pytest.mark.parametrize("damage", ["no config", "wrong types", "negative sizes", "not json", "a list", "format a string", "unknown kind", "config a list"])
def test_malformed_model_metadata(damage, media, tmp_path, capsys):
    from safetensors.torch import save_file

    from videostyle.models.files import bundled_models, read_model

    content, _ = media
    tensors, info = read_model(bundled_models()["starry_night"])
    config = dict(info["config"])
    if damage == "no config":
        info.pop("config")
    elif damage == "wrong types":
        info["config"] = {**config, "channels": "abc", "residual_blocks": "x"}
    elif damage == "negative sizes":
        info["config"] = {**config, "channels": [-4, 8, 16]}
    elif damage == "format a string":
        info["format"] = "1"
    elif damage == "unknown kind":
        info["kind"] = "painting"
    elif damage == "config a list":
        info["config"] = [config]
    model = tmp_path / "bad.safetensors"
    text = {"not json": "{not json", "a list": json.dumps([info])}.get(damage, json.dumps(info))
    save_file(tensors, str(model), metadata={"videostyle": text})
    for command, out in ((["image", content], tmp_path / "out.png"), (["video", media[1]], tmp_path / "out.mp4")):
        code, err = run_cli([*command, "--model", model, "-o", out, "-q"], capsys)
        assert_clean_failure(code, err, str(model))
        assert not out.exists()


@pytest.mark.parametrize("damage", ["random bytes", "a pickled object", "random bytes.safetensors"])
def test_bad_vgg_weight_files_say_what_is_wrong_and_nothing_of_pickle_safety(damage, media, tmp_path, capsys):
    import pickle

    content, _ = media
    weights = tmp_path / ("vgg.safetensors" if damage.endswith(".safetensors") else "vgg.pth")
    if damage == "a pickled object":
        weights.write_bytes(pickle.dumps({"features.0.weight": Path("x")}))
    else:
        weights.write_bytes(random.Random(0).randbytes(4096))
    code, err = run_cli(["image", content, *METHODS["optimize"], "--vgg-weights", weights, "-o", tmp_path / "out.png", *IMAGE_OPT], capsys)
    assert_clean_failure(code, err, f"cannot read weights file {weights}")
    assert "weights_only" not in err and "file an issue" not in err.lower()
    if damage == "a pickled object":
        assert "holds Python objects besides tensors" in err


def test_a_damaged_web_video_is_noticed_whatever_the_threading(tmp_path, capsys):
    """An MP4 with its index at the front, cut in the middle: threaded decoding ends there without an error
    (unthreaded decoding raises one); comparing with the frame count the index declares tells the user."""
    import av

    clip = write_clip(tmp_path / "web.mp4", translating_clip(60, 48, 48), faststart=True)
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with av.open(str(clip)) as container:  # the quiet failure this guards against
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        quietly = sum(1 for _ in container.decode(stream))
    assert quietly < 60
    out = tmp_path / "out.mp4"
    code, err = run_cli(["video", clip, *METHODS["model"], "--size", "0", "-o", out], capsys)
    assert code == 0 and f"decoded {quietly} of the 60 frames that web.mp4 declares: the file is damaged" in err, err
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == quietly


# --- 4. corrupt caches and unwritable places ---------------------------------------------------------------


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(cache))
    return cache


def test_a_damaged_vgg_cache_is_rebuilt_not_trusted(private_cache, tmp_path, capsys):
    import torch

    from videostyle.features import cached_vgg16_state

    reference = {name: value.clone() for name, value in cached_vgg16_state().items()}  # not views of the file
    cached = private_cache / "vgg16-imagenet-caffe.safetensors"
    data = bytearray(cached.read_bytes())
    for offset in range(len(data) - 4096, len(data) - 2048, 7):  # flip bytes inside the weights
        data[offset] ^= 0xFF
    cached.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="could not be verified"):
        state = cached_vgg16_state()
    for name, value in reference.items():
        assert torch.equal(state[name], value), name


@pytest.mark.parametrize("damage", ["cut", "garbage"])
def test_a_damaged_onnx_cache_is_rebuilt(damage, private_cache, media, tmp_path, capsys):
    content, _ = media
    out = tmp_path / "first.png"
    assert run_cli(["image", content, *METHODS["model"], "--size", "0", "-o", out, "-q"], capsys)[0] == 0
    (graph,) = (private_cache / "onnx").glob("*.onnx")
    graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 3] if damage == "cut" else b"garbage" * 100)
    code, err = run_cli(["image", content, *METHODS["model"], "--size", "0", "-o", tmp_path / "second.png", "-q"], capsys)
    assert code == 0 and "could not be verified" in err and "rebuilding" in err, err
    assert (tmp_path / "second.png").read_bytes() == out.read_bytes()


def test_an_unwritable_cache_costs_a_warning_not_the_run(tmp_path, monkeypatch, media, capsys):
    content, _ = media
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(blocker / "cache"))
    for method in ("model", "optimize"):
        out = tmp_path / f"{method}.png"
        code, err = run_cli(["image", content, *METHODS[method], "-o", out, *IMAGE_OPT], capsys)
        assert code == 0 and out.is_file() and "unexpected" not in err, err


# --- 5. kills at random points, then resume: identical frames, no leftovers --------------------------------


def _command(args: list) -> list[str]:
    return [sys.executable, "-m", "videostyle.cli", *map(str, args)]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "partial" in p.name or p.name.endswith(".lock") or p.name.endswith(".run"))


KILLS = [(method, sig) for method in ("model", "optimize") for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_start_up_says_interrupted_and_exits_130(sig, media, tmp_path):
    """The command as installed (``videostyle.entry``), signalled while PyTorch is still being imported."""
    content, _ = media
    command = [sys.executable, "-c", "from videostyle.entry import main; main()", "image", str(content), *METHODS["model"], "-o", str(tmp_path / "o.png")]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # importing PyTorch alone takes seconds here
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.strip() == "interrupted", err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("method, sig", KILLS, ids=[f"{m}-{s.name}" for m, s in KILLS])
def test_a_kill_at_a_random_point_then_resume_gives_identical_frames(method, sig, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(8, 32, 32), tone_hz=440)
    extra = VIDEO_OPT if method == "optimize" else ["--size", "0", "--batch-size", "1", "--resume", "-q"]
    reference = tmp_path / "reference"
    subprocess.run(_command(["video", clip, *METHODS[method], "-o", reference, *extra]), check=True, timeout=120)
    out = tmp_path / "out"  # a frame folder: the frames themselves are compared byte for byte
    process = subprocess.Popen(_command(["video", clip, *METHODS[method], "-o", out, *extra]), stderr=subprocess.PIPE, text=True)
    time.sleep(random.Random(f"{method}{sig}").uniform(1.5, 4.0))  # import, model load or mid-run
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    if out.exists():  # it finished before the signal landed (exit 0, or 130 after the last rename): a whole output
        assert snapshot(out) == snapshot(reference)
    else:
        assert "Traceback" not in err and "unexpected" not in err, err
        subprocess.run(_command(["video", clip, *METHODS[method], "-o", out, *extra]), check=True, timeout=120)
        assert snapshot(out) == snapshot(reference)
    assert _leftovers(tmp_path) == [], _leftovers(tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_one_pass_run_without_resume_leaves_no_run_folder(sig, tmp_path):
    """Without --resume the next run starts afresh, so an interrupted one leaves nothing behind."""
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(400, 64, 64))
    out = tmp_path / "out.mp4"
    process = subprocess.Popen(
        _command(["video", clip, *METHODS["model"], "-o", out, "--size", "0", "--batch-size", "1", "-q"]), stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    while not (tmp_path / ".out.mp4.run" / "config.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.strip() == "interrupted", err
    assert _leftovers(tmp_path) == [] and not out.exists()


def test_a_sigkill_mid_write_leaves_no_partial_after_the_next_run(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(40, 64, 64))
    out = tmp_path / "out.mp4"
    args = ["video", clip, *METHODS["optimize"], "-o", out, "--size", "64", "--first-iterations", "100000", "--flow", "dis", "-q"]
    process = subprocess.Popen(_command(args))
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.*.partial.mp4")) and time.time() < deadline:
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=30)
    assert list(tmp_path.glob(".out.*.partial.mp4"))  # what SIGKILL leaves
    fast = ["video", clip, *METHODS["model"], "-o", out, "--size", "0", "--no-resume", "-q"]  # other settings: discard the run
    subprocess.run(_command(fast), check=True, timeout=120)
    assert out.is_file() and _leftovers(tmp_path) == []


# --- 6. two runs of one output ----------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["optimize", "model"])
def test_a_second_run_of_the_same_output_is_refused_while_the_first_goes_on(second, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", translating_clip(4, 32, 32))
    out = tmp_path / "out.mp4"
    slow = ["video", clip, *METHODS["optimize"], "-o", out, "--size", "32", "--first-iterations", "60", "--iterations", "2", "--flow", "dis", "-q"]
    first = subprocess.Popen(_command(slow), stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (tmp_path / ".out.mp4.run.lock").exists() and time.time() < deadline:
        time.sleep(0.1)
    other = slow if second == "optimize" else ["video", clip, *METHODS["model"], "-o", out, "--size", "32", "-q"]
    result = subprocess.run(_command(other), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.strip().startswith("error: another run (process") and "is using" in result.stderr, result.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    import av

    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 4
    assert _leftovers(tmp_path) == []
