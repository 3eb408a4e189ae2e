import pytest
import torch

from synthetic import ExactTranslation, translating_clip, write_clip
from videostyle.errors import VideostyleError
from videostyle.flow import FlowCache, make_estimator
from videostyle.methods.ruder import RuderStylizer
from videostyle.metrics import mean_warping_error
from videostyle.options import GatysOptions, VideoOptions
from videostyle.pipeline import Progress, RunSettings, stylize_video
from videostyle.spec import MethodSpec

SIZE = 48
DX = 2


def run(frames, encoder, style, **video):
    options = VideoOptions(image=GatysOptions(iterations=12, tolerance=0.0), first_iterations=40, **video)
    stylizer = RuderStylizer(encoder, [style], options, FlowCache(None, make_estimator("dis")), torch.device("cpu"))
    return [stylizer.stylize(index, frame).output for index, frame in enumerate(frames)]


def test_temporal_loss_lowers_the_warping_error_against_the_independent_baseline(encoder, style_image):
    frames = translating_clip(8, SIZE, SIZE, dx=DX, seed=3)
    coherent = run(frames, encoder, style_image)
    independent = run(frames, encoder, style_image, independent=True)
    exact = ExactTranslation(frames, DX, 0)
    error_coherent = mean_warping_error(frames, coherent, exact)
    error_independent = mean_warping_error(frames, independent, exact)
    assert error_coherent < 0.5 * error_independent, (error_coherent, error_independent)


def test_long_term_gaps_add_named_temporal_terms(encoder, style_image):
    frames = translating_clip(4, 32, 32, dx=1)
    options = VideoOptions(image=GatysOptions(iterations=2, tolerance=0.0), first_iterations=2, long_term=[1, 2])
    stylizer = RuderStylizer(encoder, [style_image], options, FlowCache(None, make_estimator("dis")), torch.device("cpu"))
    results = [stylizer.stylize(index, frame) for index, frame in enumerate(frames)]
    assert "temporal.1" in results[1].losses and "temporal.2" not in results[1].losses
    assert {"temporal.1", "temporal.2"} <= set(results[3].losses)
    assert results[0].iterations == 2


@pytest.mark.parametrize("init", ["previous", "random"])
def test_other_frame_inits_run(encoder, style_image, init):
    frames = translating_clip(2, 32, 32)
    outputs = run(frames, encoder, style_image, frame_init=init)
    assert len(outputs) == 2 and outputs[1].shape == (32, 32, 3)


def test_bad_video_options_are_user_errors():
    with pytest.raises(VideostyleError, match="long_term"):
        VideoOptions(long_term=[0]).check()
    with pytest.raises(VideostyleError, match="unknown frame_init") as error:
        VideoOptions(frame_init="zero").check()
    assert error.value.parameter == "frame_init"


class Interrupt(Exception):
    pass


def optimization_spec(style_path, **video) -> MethodSpec:
    image = GatysOptions(iterations=video.pop("iterations", 3), tolerance=0.0)
    return MethodSpec(styles=[str(style_path)], optimization=VideoOptions(image=image, flow="dis", **video))


@pytest.fixture
def style_file(tmp_path, style_image):
    from videostyle.io.image import save_image

    return save_image(style_image, tmp_path / "style.png")


def test_an_interrupted_run_resumes_to_the_same_frames(tmp_path, encoder, style_file):
    source = write_clip(tmp_path / "in.mp4", translating_clip(5, 32, 32, dx=1), tone_hz=330)
    spec = optimization_spec(style_file, first_iterations=6)
    common = dict(encoder=encoder, run=RunSettings(keep_frames=True))

    stylize_video(source, tmp_path / "whole.mp4", spec, **common)

    def stop_after_three(index):
        if index == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        stylize_video(source, tmp_path / "resumed.mp4", spec, progress=Progress(on_frame=stop_after_three), **common)
    assert not (tmp_path / "resumed.mp4").exists()
    summary = stylize_video(source, tmp_path / "resumed.mp4", spec, **common)
    assert summary.resumed_frames == 3 and summary.frames == 5
    # frames 3 and 4 need the flows 2<->3 and 3<->4, which the interrupted run never computed
    assert (summary.flows_computed, summary.flows_loaded) == (4, 0)
    whole = sorted((tmp_path / ".whole.mp4.run" / "frames").iterdir())
    resumed = sorted((tmp_path / ".resumed.mp4.run" / "frames").iterdir())
    assert [p.name for p in whole] == [p.name for p in resumed] and len(whole) == 5
    for a, b in zip(whole, resumed):
        assert a.read_bytes() == b.read_bytes(), a.name
    import av

    with av.open(str(tmp_path / "resumed.mp4")) as container:
        assert container.streams.video[0].frames == 5 and len(container.streams.audio) == 1


def test_changed_arguments_are_refused_unless_restarted(tmp_path, encoder, style_file):
    source = write_clip(tmp_path / "in.mp4", translating_clip(2, 32, 32))
    stylize_video(
        source, tmp_path / "out.mp4", optimization_spec(style_file, iterations=1, first_iterations=1), encoder=encoder, run=RunSettings(keep_frames=True)
    )
    changed = optimization_spec(style_file, iterations=2, first_iterations=1)
    with pytest.raises(VideostyleError, match=r"other settings \(optimization.image.iterations differs\); resume=False discards it"):
        stylize_video(source, tmp_path / "out.mp4", changed, encoder=encoder, run=RunSettings(keep_frames=True))
    summary = stylize_video(source, tmp_path / "out.mp4", changed, encoder=encoder, run=RunSettings(resume=False, keep_frames=True))
    assert summary.resumed_frames == 0 and summary.frames == 2


def test_multi_pass_runs_alternating_passes_and_resumes_mid_pass(tmp_path, encoder, style_file):
    source = write_clip(tmp_path / "in.mp4", translating_clip(3, 32, 32, dx=1))
    spec = optimization_spec(style_file, iterations=2, first_iterations=3, passes=3, pass_iterations=2)
    common = dict(encoder=encoder, run=RunSettings(keep_frames=True))
    seen = []
    whole = stylize_video(source, tmp_path / "whole.mp4", spec, progress=Progress(on_frame=seen.append), **common)
    assert whole.frames == 3 and len(whole.iterations) == 9
    assert seen == [0, 1, 2, 2, 1, 0, 0, 1, 2]  # forward, backward, forward
    run = tmp_path / ".whole.mp4.run" / "frames"
    assert sorted(p.name for p in (run / "pass3").iterdir()) == ["out_000001.png", "out_000002.png", "out_000003.png"]
    assert (run / "pass3" / "out_000002.png").read_bytes() != (run / "out_000002.png").read_bytes()

    calls = []

    def stop_in_pass_two(index):
        calls.append(index)
        if len(calls) == 5:  # frame 1 of the backward pass
            raise Interrupt

    with pytest.raises(Interrupt):
        stylize_video(source, tmp_path / "resumed.mp4", spec, progress=Progress(on_frame=stop_in_pass_two), **common)
    resumed = stylize_video(source, tmp_path / "resumed.mp4", spec, **common)
    assert resumed.resumed_frames == 3
    again = tmp_path / ".resumed.mp4.run" / "frames" / "pass3"
    for name in ["out_000001.png", "out_000002.png", "out_000003.png"]:
        assert (again / name).read_bytes() == (run / "pass3" / name).read_bytes(), name


def test_independent_multi_pass_is_refused():
    with pytest.raises(VideostyleError, match="single-pass"):
        VideoOptions(passes=2, independent=True).check()


def test_the_estimate_counts_every_planned_iteration_and_flow():
    from videostyle.methods.ruder import estimate_seconds, planned_flows, planned_iterations

    options = VideoOptions(first_iterations=100, image=GatysOptions(iterations=10), long_term=[1, 3], passes=3, pass_iterations=5)
    assert planned_iterations(options, 11) == 100 + 10 * 10 + 2 * 11 * 5
    assert planned_flows(options, 11) == 2 * 10 + 2 * 8
    assert estimate_seconds(options, 11, 1.0, 0.5) == planned_iterations(options, 11) + 0.5 * planned_flows(options, 11)
    independent = VideoOptions(first_iterations=40, independent=True)
    assert (planned_iterations(independent, 5), planned_flows(independent, 5)) == (200, 0)
