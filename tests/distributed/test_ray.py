"""One-pass video on a real local Ray cluster of two nodes (``ray.cluster_utils.Cluster``), no mocks:
the output equals a single-process run, a killed worker costs no frames, bad addresses fail fast."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from synthetic import translating_clip, write_clip
from videostyle.errors import VideostyleError
from videostyle.io.video import VideoReader
from videostyle.pipeline import Progress, RunSettings, stylize_video
from videostyle.spec import MethodSpec

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'videostyle[ray]'")

from videostyle.distributed.ray_runner import RayFrames, RaySettings, connect  # noqa: E402

STYLES = Path(__file__).parents[2] / "assets"


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, one CPU each, joined by this process."""
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    ray.init(address=nodes.address, log_to_driver=False, logging_level="ERROR")
    nodes.wait_for_nodes()
    yield nodes
    ray.shutdown()
    nodes.shutdown()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 2-second clip with a tone, 48 frames of 64x48."""
    return write_clip(tmp_path_factory.mktemp("ray") / "walk.mp4", translating_clip(48, 48, 64), tone_hz=440)


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(audio=0)]


def assert_same_frames(local: Path, distributed: Path) -> None:
    """PNG frame folders (compared before any video encoding, which would magnify a one-level difference)."""
    expected, got = list(VideoReader(local)), list(VideoReader(distributed))
    assert len(got) == len(expected) == 48
    # equal, or within 1/255 where the workers' runtime threads differ from the local run's (float sums in another order)
    largest = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(expected, got, strict=True))
    assert largest <= 1, f"frames differ from the single-process run by up to {largest}/255"


@pytest.mark.parametrize(
    "spec",
    [
        MethodSpec(method="feedforward", model="starry_night"),
        MethodSpec(method="adain", styles=[str(STYLES / "graffiti.jpg")], alpha=0.8, batch_size=2),
        MethodSpec(method="style-swap", styles=[str(STYLES / "graffiti.jpg")], model="swap_decoder"),
    ],
    ids=["feedforward", "adain-with-a-style-file", "style-swap-with-its-network"],
)
def test_two_nodes_give_the_single_process_output(cluster, clip, tmp_path, spec):
    on_ray = RunSettings(ray=RaySettings(workers=2))
    stylize_video(clip, tmp_path / "local", spec)
    assert stylize_video(clip, tmp_path / "ray", spec, run=on_ray).frames == 48
    assert_same_frames(tmp_path / "local", tmp_path / "ray")
    stylize_video(clip, tmp_path / "local.mp4", spec)
    stylize_video(clip, tmp_path / "ray.mp4", spec, run=on_ray)
    assert audio_packets(tmp_path / "ray.mp4") == audio_packets(tmp_path / "local.mp4") != []


def test_workers_spread_over_the_nodes(cluster):
    workers = RayFrames(MethodSpec(method="feedforward", model="starry_night"), RaySettings(workers=2))
    try:
        places = ray.get([actor.where.remote() for actor in workers.actors])
    finally:
        workers.close()
    assert len({node for node, _ in places}) == 2 and len({pid for _, pid in places}) == 2


def stylizer_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::StylizerActor"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker processes in /proc")
def test_a_worker_killed_mid_run_costs_no_frames(cluster, clip, tmp_path):
    spec = MethodSpec(method="feedforward", model="starry_night", batch_size=2)
    stylize_video(clip, tmp_path / "local", spec)
    killed: list[int] = []

    def kill_one_worker(index: int) -> None:
        if index == 12 and not killed:
            workers = stylizer_processes()
            assert len(workers) == 2, f"expected this run's two workers, found {workers}"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    summary = stylize_video(clip, tmp_path / "ray", spec, run=RunSettings(ray=RaySettings(workers=2)), progress=Progress(on_frame=kill_one_worker))
    assert killed and summary.frames == 48
    assert_same_frames(tmp_path / "local", tmp_path / "ray")


def test_unreachable_address_fails_in_seconds_with_one_line():
    began = time.monotonic()
    with pytest.raises(VideostyleError, match=r"^cannot reach a Ray cluster at 127\.0\.0\.1:9: ") as raised:
        connect("127.0.0.1:9")
    assert time.monotonic() - began < 10 and "\n" not in str(raised.value)
    with pytest.raises(VideostyleError, match="a Ray address is HOST:PORT"):
        connect("nowhere")


def test_without_ray_the_message_names_the_extra(monkeypatch, clip, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without the extra sees
    with pytest.raises(VideostyleError, match=r"pip install 'videostyle\[ray\]'"):
        stylize_video(clip, tmp_path / "out.mp4", MethodSpec(method="feedforward", model="starry_night"), run=RunSettings(ray=RaySettings()))
    assert not (tmp_path / "out.mp4").exists()


def test_multi_pass_on_ray_is_refused_before_anything_is_written(clip, tmp_path):
    from videostyle.options import VideoOptions

    spec = MethodSpec(method="optimize", styles=[str(STYLES / "graffiti.jpg")], optimization=VideoOptions(passes=2))
    with pytest.raises(VideostyleError, match=r"multi-pass runs \(passes > 1\) are not built for Ray"):
        stylize_video(clip, tmp_path / "out.mp4", spec, run=RunSettings(ray=RaySettings()))
    assert not list(tmp_path.iterdir())


def run_main(args, capsys) -> tuple[int, str]:
    from videostyle.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exited:
        code = exited.code
    return code, capsys.readouterr().err


def test_video_command_runs_on_the_cluster(cluster, clip, tmp_path, capsys):
    code, _ = run_main(["video", str(clip), "-m", "starry_night", "-o", str(tmp_path / "out.mp4"), "--ray", "--ray-workers", "2", "-q"], capsys)
    assert code == 0 and len(list(VideoReader(tmp_path / "out.mp4"))) == 48


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ray", "127.0.0.1:9"], "error: cannot reach a Ray cluster at 127.0.0.1:9: "),
        (["--ray", "--ray-workers", "0"], "error: --ray-workers must be"),
        (["--ray", "--ray-cpus-per-worker", "-1"], "error: --ray-cpus-per-worker must be"),
        (["--ray", "-s", str(STYLES / "graffiti.jpg"), "--passes", "2"], "error: multi-pass runs (--passes > 1) are not built for Ray"),
        (["--ray", "-s", str(STYLES / "graffiti.jpg"), "--ray-chunk-frames", "5"], "error: --ray-chunk-frames (5) must be at least the overlap (12) plus 2"),
    ],
)
def test_video_command_bad_ray_flags_give_one_line(clip, tmp_path, capsys, flags, message):
    model = [] if "-s" in flags else ["-m", "starry_night"]
    code, error = run_main(["video", str(clip), *model, "-o", str(tmp_path / "out.mp4"), "-q", *flags], capsys)
    assert code == 1 and error.startswith(message) and error.count("\n") == 1
    assert not (tmp_path / "out.mp4").exists()


def chunked_spec() -> MethodSpec:
    from videostyle.options import GatysOptions, VideoOptions

    options = VideoOptions(image=GatysOptions(iterations=20), first_iterations=60, flow="dis", long_term=[1, 2])
    return MethodSpec(method="optimize", styles=[str(STYLES / "starry_night.jpg")], size=64, optimization=options)


def boundary_and_inside_errors(clip: Path, output: Path, chunks) -> tuple[float, float]:
    from videostyle.distributed.chunks import boundary_and_inside
    from videostyle.flow import make_estimator
    from videostyle.metrics.temporal import warping_errors
    from videostyle.pipeline import resize_frame

    outputs = list(VideoReader(output))
    originals = [resize_frame(frame, outputs[0].shape[:2]) for frame in VideoReader(clip)]
    return boundary_and_inside(warping_errors(originals, outputs, make_estimator("dis")), chunks)


def test_chunked_optimisation_resumes_and_has_no_boundary_pop(cluster, tmp_path):
    from videostyle.distributed.chunks import plan_chunks

    clip = write_clip(tmp_path / "pan.mp4", translating_clip(24, 48, 64))
    settings = RaySettings(chunk_frames=12, chunk_overlap=6)  # shorter than the defaults, for a short test clip
    stopped: list[int] = []

    def stop_after_three(index: int) -> None:
        if index == 2:
            stopped.append(index)
            raise KeyboardInterrupt  # what Ctrl-C does to the driver

    with pytest.raises(KeyboardInterrupt):
        stylize_video(clip, tmp_path / "out.mp4", chunked_spec(), run=RunSettings(ray=settings), progress=Progress(on_frame=stop_after_three))
    first_chunk = tmp_path / ".out.mp4.run" / "chunks" / "000000-000012"
    kept = first_chunk.stat().st_mtime_ns  # the first chunk was kept in its own folder before its frames were written
    summary = stylize_video(clip, tmp_path / "out.mp4", chunked_spec(), run=RunSettings(ray=settings, keep_frames=True))
    assert stopped and (summary.frames, summary.resumed_frames) == (24, 3)
    assert first_chunk.stat().st_mtime_ns == kept  # read back, not run again
    assert sorted(path.name for path in first_chunk.parent.iterdir()) == ["000000-000012", "000006-000024", "plan.json"]
    chunks = plan_chunks(0, 24, 12, 6)  # the resumed run's chunks: the first run's plan
    assert len(chunks) == 2
    boundary, inside = boundary_and_inside_errors(clip, tmp_path / "out.mp4", chunks)
    assert boundary <= 1.3 * inside, f"boundary {boundary:.5f} vs inside {inside:.5f}"


def test_a_batch_of_pictures_on_two_nodes_equals_the_local_batch(cluster, tmp_path):
    """Content x style pairs (style files shipped to the workers), one unreadable content skipped and counted."""
    from PIL import Image

    from videostyle.batch import plan_batch, stylize_batch

    contents = []
    for name in ("grace_hopper", "wesnoth_bridge", "graffiti"):
        contents.append(tmp_path / f"{name}.png")
        Image.open(STYLES / f"{name}.jpg").convert("RGB").resize((64, 48)).save(contents[-1])
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    styles = [(str(STYLES / "starry_night.jpg"),), (str(STYLES / "wesnoth_jevyan.jpg"),)]
    items = plan_batch([*contents, tmp_path / "broken.png"], styles, tmp_path / "local")
    spec = MethodSpec(method="adain", styles=list(styles[0]), size=48)
    local = stylize_batch(items, spec, tmp_path / "local", sheet=False)
    distributed = stylize_batch(plan_batch([*contents, tmp_path / "broken.png"], styles, tmp_path / "ray"), spec, tmp_path / "ray", ray=RaySettings(workers=2))
    assert local.written == distributed.written == 6
    assert [reason.split(":")[0] for _, reason in distributed.failed] == ["not an image (or an unsupported format)"] * 2
    for item in items[:6]:
        expected = np.asarray(Image.open(item.output), np.int16)
        got = np.asarray(Image.open(tmp_path / "ray" / item.output.name), np.int16)
        assert np.abs(expected - got).max() <= 1, item.output.name
    assert (tmp_path / "ray" / "contact_sheet.png").is_file() and not (tmp_path / "local" / "contact_sheet.png").exists()
