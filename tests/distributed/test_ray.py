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


def frames_and_audio(path: Path) -> tuple[list[np.ndarray], list[bytes]]:
    with av.open(str(path)) as container:
        audio = [bytes(packet) for packet in container.demux(audio=0)]
    return list(VideoReader(path)), audio


def assert_same_video(local: Path, distributed: Path) -> None:
    expected, expected_audio = frames_and_audio(local)
    got, got_audio = frames_and_audio(distributed)
    assert len(got) == len(expected) == 48
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True)), "frames differ from the single-process run"
    assert got_audio == expected_audio and got_audio, "the audio differs or is missing"


@pytest.mark.parametrize(
    "spec",
    [
        MethodSpec(method="feedforward", model="starry_night"),
        MethodSpec(method="adain", styles=[str(STYLES / "graffiti.jpg")], alpha=0.8, batch_size=2),
    ],
    ids=["feedforward", "adain-with-a-style-file"],
)
def test_two_nodes_give_the_single_process_output(cluster, clip, tmp_path, spec):
    stylize_video(clip, tmp_path / "local.mp4", spec)
    summary = stylize_video(clip, tmp_path / "ray.mp4", spec, run=RunSettings(ray=RaySettings(workers=2)))
    assert summary.frames == 48
    assert_same_video(tmp_path / "local.mp4", tmp_path / "ray.mp4")


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
    stylize_video(clip, tmp_path / "local.mp4", spec)
    killed: list[int] = []

    def kill_one_worker(index: int) -> None:
        if index == 12 and not killed:
            workers = stylizer_processes()
            assert len(workers) == 2, f"expected this run's two workers, found {workers}"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    summary = stylize_video(clip, tmp_path / "ray.mp4", spec, run=RunSettings(ray=RaySettings(workers=2)), progress=Progress(on_frame=kill_one_worker))
    assert killed and summary.frames == 48
    assert_same_video(tmp_path / "local.mp4", tmp_path / "ray.mp4")


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


def test_optimisation_on_ray_is_refused_before_anything_is_written(clip, tmp_path):
    spec = MethodSpec(method="optimize", styles=[str(STYLES / "graffiti.jpg")])
    with pytest.raises(VideostyleError, match="optimisation method on Ray is not built yet"):
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
        (["--ray", "-s", str(STYLES / "graffiti.jpg"), "--method", "optimize"], "error: Ray runs the one-pass methods"),
    ],
)
def test_video_command_bad_ray_flags_give_one_line(clip, tmp_path, capsys, flags, message):
    model = [] if "optimize" in flags else ["-m", "starry_night"]
    code, error = run_main(["video", str(clip), *model, "-o", str(tmp_path / "out.mp4"), "-q", *flags], capsys)
    assert code == 1 and error.startswith(message) and error.count("\n") == 1
    assert not (tmp_path / "out.mp4").exists()
