"""Keyframe video: painted frames carried through a clip (videostyle keyframes)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from synthetic import translating_clip, write_clip
from videostyle.errors import VideostyleError
from videostyle.io.image import load_frame_png
from videostyle.keyframes import KeyframeOptions, clip_frame, propagate_keyframes
from videostyle.pipeline import Progress
from videostyle.synthesis import SynthesisOptions
from videostyle.training.patches import PatchTrainingOptions

HEIGHT, WIDTH, FRAMES = 48, 64, 7
#: Fewer EM and search rounds than the defaults: the tests' clips are tiny.
FAST = KeyframeOptions(synthesis=SynthesisOptions(retrieval="nearest", em_iterations=2, search_iterations=2, final_vote="centre"))


def painted(frame: np.ndarray) -> np.ndarray:
    """A "painting" with a known answer on every frame: colours inverted and swapped."""
    return np.ascontiguousarray(255 - frame[..., ::-1])


@pytest.fixture
def clip(tmp_path):
    frames = translating_clip(FRAMES, HEIGHT, WIDTH, dx=1)
    folder = tmp_path / "clip"
    folder.mkdir()
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{index:04d}.png")
    return folder, frames


def keyframe(tmp_path, frames, index) -> str:
    path = tmp_path / f"key{index}.png"
    Image.fromarray(painted(frames[index])).save(path)
    return str(path)


def test_keyframes_are_kept_and_the_frames_between_follow_the_painting(clip, tmp_path):
    folder, frames = clip
    keys = {0: keyframe(tmp_path, frames, 0), FRAMES - 1: keyframe(tmp_path, frames, FRAMES - 1)}
    summary = propagate_keyframes(folder, tmp_path / "out", keys, options=FAST)
    outputs = [load_frame_png(path) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert summary.frames == FRAMES and len(outputs) == FRAMES
    for index in keys:
        assert np.array_equal(outputs[index], painted(frames[index]))
    for index in range(1, FRAMES - 1):
        difference = np.abs(outputs[index].astype(float) - painted(frames[index]))[4:-4, 4:-4].mean()
        unmoved = np.abs(painted(frames[0]).astype(float) - painted(frames[index]))[4:-4, 4:-4].mean()
        assert difference < 0.25 * unmoved, (index, difference, unmoved)


def test_frames_before_the_first_keyframe_are_painted_backward(clip, tmp_path):
    folder, frames = clip
    propagate_keyframes(folder, tmp_path / "out", {3: keyframe(tmp_path, frames, 3)}, options=FAST)
    outputs = [load_frame_png(path) for path in sorted((tmp_path / "out").glob("*.png"))]
    first = np.abs(outputs[0].astype(float) - painted(frames[0]))[4:-4, 4:-4].mean()
    assert first < 0.25 * np.abs(painted(frames[3]).astype(float) - painted(frames[0]))[4:-4, 4:-4].mean()


def test_an_interrupted_run_resumes_into_the_same_frames(clip, tmp_path):
    folder, frames = clip
    keys = {0: keyframe(tmp_path, frames, 0), 5: keyframe(tmp_path, frames, 5)}

    def stop_at_frame_three(index) -> None:
        if index == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        propagate_keyframes(folder, tmp_path / "resumed", keys, options=FAST, progress=Progress(on_frame=stop_at_frame_three))
    assert not (tmp_path / "resumed").exists() and (tmp_path / ".resumed.run" / "frames").is_dir()
    resumed = propagate_keyframes(folder, tmp_path / "resumed", keys, options=FAST)
    whole = propagate_keyframes(folder, tmp_path / "whole", keys, options=FAST)
    assert resumed.resumed_frames == 4 and whole.resumed_frames == 0  # frames 0 to 3: the interrupt came after frame 3 was handed on
    for a, b in zip(sorted((tmp_path / "resumed").glob("*.png")), sorted((tmp_path / "whole").glob("*.png")), strict=True):
        assert np.array_equal(load_frame_png(a), load_frame_png(b))


def test_the_clips_sound_is_kept(tmp_path):
    from videostyle.io.video import VideoReader

    frames = translating_clip(4, HEIGHT, WIDTH)
    source = write_clip(tmp_path / "clip.mp4", frames, tone_hz=440)
    key = tmp_path / "key.png"
    Image.fromarray(painted(clip_frame(source, 0))).save(key)
    propagate_keyframes(source, tmp_path / "out.mp4", {0: key}, options=FAST)
    assert VideoReader(tmp_path / "out.mp4").info.has_audio


def test_bad_keyframes_are_refused_before_anything_is_written(clip, tmp_path):
    folder, frames = clip
    small = tmp_path / "small.png"
    Image.fromarray(painted(frames[0])[:20, :20]).save(small)
    with pytest.raises(VideostyleError, match=r"is 20x20; the clip's frames are 64x48"):
        propagate_keyframes(folder, tmp_path / "out.mp4", {0: small})
    with pytest.raises(VideostyleError, match=r"keyframe 9 is outside the clip, which has 7 frames"):
        propagate_keyframes(folder, tmp_path / "out.mp4", {9: keyframe(tmp_path, frames, 0)})
    with pytest.raises(VideostyleError, match="at least one"):
        propagate_keyframes(folder, tmp_path / "out.mp4", {})
    with pytest.raises(VideostyleError, match="frame 12 is outside the clip"):
        clip_frame(folder, 12)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / ".out.mp4.run").exists()


def test_the_command_writes_a_frame_to_paint_and_refuses_bad_keys(clip, tmp_path, capsys):
    from cli_runs import run_cli

    folder, frames = clip
    code, _ = run_cli(["keyframes", folder, "--frame", "2", "-o", tmp_path / "frame2.png"], capsys)
    assert code == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "frame2.png")), frames[2])
    for arguments, message in (
        (["--key", "0key.png"], "FRAME=PICTURE"),
        (["--key", "0=a.png", "--key", "0=b.png"], "twice"),
        ([], "at least one painted frame"),
    ):
        code, error = run_cli(["keyframes", folder, *arguments, "-o", tmp_path / "out.mp4"], capsys)
        assert code == 1 and message in error and error.count("\n") == 1, error


#: The network engine, trained briefly on small patches: the tests' painting is a per-pixel colour map, quick to learn.
NETWORK = KeyframeOptions(engine="network", training=PatchTrainingOptions(size=16, batch_size=16, steps=120, checkpoint_every=10))


def test_the_network_engine_learns_the_painting_and_keeps_the_keyframes(clip, tmp_path):
    folder, frames = clip
    keys = {3: keyframe(tmp_path, frames, 3)}
    reports = []
    summary = propagate_keyframes(folder, tmp_path / "out", keys, options=NETWORK, progress=Progress(on_adapt=reports.append))
    outputs = [load_frame_png(path) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert summary.frames == FRAMES and [report.step for report in reports] == list(range(1, 121))
    assert np.array_equal(outputs[3], painted(frames[3]))
    for index in (0, FRAMES - 1):  # the frames farthest from the keyframe
        difference = np.abs(outputs[index].astype(float) - painted(frames[index])).mean()
        untrained = np.abs(frames[index].astype(float) - painted(frames[index])).mean()  # the frame itself, unpainted
        assert difference < 0.2 * untrained, (index, difference, untrained)


def test_an_interrupted_training_resumes_from_its_checkpoint(clip, tmp_path):
    folder, frames = clip
    keys = {0: keyframe(tmp_path, frames, 0)}
    options = replace(NETWORK, training=replace(NETWORK.training, steps=25))

    def stop_at_step_15(report) -> None:
        if report.step == 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        propagate_keyframes(folder, tmp_path / "resumed", keys, options=options, progress=Progress(on_adapt=stop_at_step_15))
    steps = []
    propagate_keyframes(folder, tmp_path / "resumed", keys, options=options, progress=Progress(on_adapt=lambda report: steps.append(report.step)))
    assert steps == list(range(11, 26))  # from the checkpoint of step 10
    propagate_keyframes(folder, tmp_path / "whole", keys, options=options)
    for a, b in zip(sorted((tmp_path / "resumed").glob("*.png")), sorted((tmp_path / "whole").glob("*.png")), strict=True):
        assert np.array_equal(load_frame_png(a), load_frame_png(b))


def test_the_command_runs_the_network_engine(clip, tmp_path, capsys):
    from cli_runs import run_cli

    folder, frames = clip
    key = keyframe(tmp_path, frames, 0)
    code, error = run_cli(["keyframes", folder, "--key", f"0={key}", "--engine", "network", "--train-steps", "3", "-q", "-o", tmp_path / "out"], capsys)
    assert code == 0, error
    assert np.array_equal(load_frame_png(sorted((tmp_path / "out").glob("*.png"))[0]), painted(frames[0]))
    code, error = run_cli(["keyframes", folder, "--key", f"0={key}", "--train-steps", "3", "-o", tmp_path / "other"], capsys)
    assert code == 1 and "--train-steps is for --engine network" in error and error.count("\n") == 1, error


def test_between_two_keyframes_each_propagation_is_painted_only_as_far_as_it_is_used(clip, tmp_path):
    from videostyle.pipeline import RunSettings

    folder, frames = clip
    keys = {0: keyframe(tmp_path, frames, 0), FRAMES - 1: keyframe(tmp_path, frames, FRAMES - 1)}
    options = replace(FAST, blend_frames=2)  # keys 0 and 6: the middle is 3; frames 1-2 forward, 3 joined, 4-5 backward
    run = tmp_path / "run"
    propagate_keyframes(folder, tmp_path / "out", keys, options=options, run=RunSettings(folder=run, keep_frames=True))
    forward = sorted(int(path.stem.split("_")[1]) - 1 for path in (run / "keyframes" / "forward").glob("*.npy"))
    backward = sorted(int(path.stem.split("_")[1]) - 1 for path in (run / "keyframes" / "backward").glob("*.npy"))
    assert forward == [1, 2, 3] and backward == [3, 4, 5]
    outputs = [load_frame_png(path) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert np.array_equal(outputs[2], load_frame_png(run / "frames" / "out_000003.png"))
    assert np.array_equal(outputs[4], load_frame_png(run / "keyframes" / "backward" / "out_000005.png"))
