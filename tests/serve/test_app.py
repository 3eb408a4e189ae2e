"""The page through its HTTP API with gradio_client: the app runs in this process on a free port."""

from __future__ import annotations

import socket
import time

import av
import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client", reason="the web extra is not installed: pip install 'videostyle[web]'")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from synthetic import translating_clip, write_clip  # noqa: E402
from videostyle.serve.app import launch  # noqa: E402
from videostyle.serve.jobs import ServeSettings, sample_image  # noqa: E402

#: The inputs of /stylize_image after the content, in the page's order.
IMAGE_OPTIONS = {
    "method": "feedforward",
    "model": "starry_night",
    "uploads": [],
    "bundled": [],
    "weights": "",
    "size": 128,
    "strength": 1.0,
    "alpha": 1.0,
    "preserve_color": "none",
    "iterations": 300,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    settings = ServeSettings(tmp_path_factory.mktemp("web") / "results", max_clip_seconds=5)
    app, server, url = launch(settings, port=free_port(), block=False, quiet=True)
    yield url, server, settings
    app.close()
    server.close()


def image_arguments(content, **changes):
    assert set(changes) <= set(IMAGE_OPTIONS)
    return [handle_file(str(content)), *{**IMAGE_OPTIONS, **changes}.values()]


def test_bundled_model_stylizes_the_bundled_image(page):
    url, _, settings = page
    result, (before, _), _, status = Client(url, verbose=False).predict(*image_arguments(sample_image()), api_name="/stylize_image")
    stylized = np.asarray(Image.open(result), dtype=np.float32)
    original = np.asarray(Image.open(before), dtype=np.float32)
    assert stylized.shape == original.shape and max(stylized.shape[:2]) == 128
    assert np.abs(stylized - original).mean() > 10
    assert status.startswith("**Done:**") and len(list(settings.output_dir.glob("*-feedforward-starry_night-*.png"))) == 2  # the result and its input


def test_ten_frame_clip_keeps_its_sound_and_is_measured(page, tmp_path):
    url, _, _ = page
    clip = write_clip(tmp_path / "walk.mp4", translating_clip(10, 48, 64), tone_hz=440)
    arguments = [handle_file(str(clip)), "arbitrary-video", "starry_night", [], ["graffiti"], "", 0, 1.0, 1.0, "none", "draft", None, None, True]
    result, side_by_side, plot, metrics, _, status = Client(url, verbose=False).predict(*arguments, api_name="/stylize_video")
    with av.open(result) as container:
        frames = sum(1 for _ in container.decode(video=0))
        assert container.streams.audio, "the clip's sound was dropped"
    assert frames == 10 and status.startswith("**Done:**") and "10 frames" in status
    assert Image.open(plot).size[0] > 0 and "short-term warping error" in metrics
    with av.open(side_by_side) as container:
        assert container.streams.video[0].width > 64  # input and result side by side


def test_a_frame_to_paint_and_its_painting_give_the_clip(page, tmp_path):
    url, _, _ = page
    clip = write_clip(tmp_path / "walk.mp4", translating_clip(6, 48, 64), tone_hz=440)
    client = Client(url, verbose=False)
    frame = client.predict(handle_file(str(clip)), 2, 0, api_name="/frame_to_paint")
    painting = tmp_path / "painted.png"
    Image.fromarray(255 - np.asarray(Image.open(frame))).save(painting)
    arguments = [handle_file(str(clip)), [handle_file(str(painting))], "2", "patches", 0, None, None, False]
    result, _, _, _, _, status = client.predict(*arguments, api_name="/stylize_keyframes")
    with av.open(result) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6 and container.streams.audio
    assert status.startswith("**Done:**") and "6 frames" in status
    with pytest.raises(AppError, match="1 painted frames uploaded but 2 frame numbers given"):
        client.predict(*[*arguments[:2], "0, 2", *arguments[3:]], api_name="/stylize_keyframes")


def test_a_bad_upload_gets_a_one_line_message(page, tmp_path):
    url, _, _ = page
    fake = tmp_path / "photo.png"
    fake.write_text("this is text")
    with pytest.raises(AppError) as raised:
        Client(url, verbose=False).predict(*image_arguments(fake), api_name="/stylize_image")
    assert str(raised.value) == "the content image is not an image that can be read (PNG, JPEG, WebP, ...)"
    long_clip = write_clip(tmp_path / "long.mp4", translating_clip(180, 32, 48))  # 6 s, over the page's 5
    arguments = [handle_file(str(long_clip)), "feedforward", "starry_night", [], [], "", 0, 1.0, 1.0, "none", "draft", None, None, False]
    with pytest.raises(AppError, match=r"at most 5 s: set start and end to a shorter part$"):
        Client(url, verbose=False).predict(*arguments, api_name="/stylize_video")


def test_one_job_at_a_time_others_see_their_place_and_cancel_frees_the_queue(page):
    url, server, settings = page
    slow_spec = {"method": "optimize", "bundled": ["starry_night"], "size": 96, "iterations": 1000}
    slow = Client(url, verbose=False).submit(*image_arguments(sample_image(), **slow_spec), api_name="/stylize_image")
    waiting_client = Client(url, verbose=False)
    wait_until(lambda: slow.status().code.name in ("PROCESSING", "PROGRESS"), "the first job to start")
    waiting = waiting_client.submit(*image_arguments(sample_image(), strength=0.5), api_name="/stylize_image")
    wait_until(lambda: waiting.status().code.name == "IN_QUEUE" and waiting.status().rank == 0, "the second job to be first in the queue")
    assert waiting.status().rank == 0 and not waiting.done()
    wait_until(lambda: server.running, "the first job to be running in its thread")
    assert not slow.done()
    slow.cancel()
    result, *_ = waiting.result(timeout=120)  # the queue moves on once the slow job has stopped
    assert Image.open(result).size[0] > 0
    wait_until(lambda: not server.running and not server.heavy.locked(), "the cancelled job's thread to stop")
    assert not list(settings.output_dir.glob("*-optimize-*.png")), "a cancelled job left an output"


def test_the_cancel_button_stops_its_own_sessions_job(page):
    url, server, settings = page
    client = Client(url, verbose=False)
    slow = client.submit(*image_arguments(sample_image(), method="optimize", bundled=["graffiti"], size=96, iterations=1000), api_name="/stylize_image")
    wait_until(lambda: any(key.endswith(":image") for key in server.running), "the job to be running")
    assert Client(url, verbose=False).predict(api_name="/cancel_image") == "Nothing is running."  # another visitor's button
    assert client.predict(api_name="/cancel_image").startswith("Cancelled")
    wait_until(lambda: not server.running and not server.heavy.locked(), "the job's thread to stop")
    assert not slow.status().success and not list(settings.output_dir.glob("*-optimize-graffiti-*.png"))


def wait_until(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_page_opens_no_path_a_client_names(page):
    url, _, _ = page
    with pytest.raises(AppError):
        Client(url, verbose=False).predict(*image_arguments(sample_image(), model="/etc/passwd"), api_name="/stylize_image")
    with pytest.raises(AppError):
        Client(url, verbose=False).predict(*image_arguments(sample_image(), method="adain", bundled=["../../etc/passwd"]), api_name="/stylize_image")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--max-upload-mb", "-1"], "--max-upload-mb must be"),
        (["--output-dir", "README.md"], "--output-dir is a file, not a folder"),
    ],
)
def test_serve_command_bad_input_gives_one_line(args, message, capsys):
    from videostyle.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])
    error = capsys.readouterr().err
    assert exited.value.code == 1 and error.startswith(f"error: {message}") and error.count("\n") == 1


def test_serve_command_on_a_port_in_use_says_so(page, capsys):
    from videostyle.cli import main

    port = page[0].rstrip("/").rsplit(":", 1)[1]
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port, "--output-dir", str(page[2].output_dir)])
    assert (
        exited.value.code == 1
        and capsys.readouterr().err == f"error: cannot start the page on 127.0.0.1:{port}: --port {port} is in use (choose another --port)\n"
    )


def test_a_video_job_killed_with_its_server_resumes_after_a_restart(tmp_path):
    """The server process is killed (SIGKILL) mid-run; a new server given the same job takes the finished frames from the run folder."""
    import subprocess
    import sys

    clip = write_clip(tmp_path / "walk.mp4", translating_clip(6, 32, 48))
    results = tmp_path / "results"
    arguments = [handle_file(str(clip)), "optimize", "starry_night", [], ["starry_night"], "", 32, 1.0, 1.0, "none", "draft", None, None, False]

    def start_server() -> tuple[subprocess.Popen, str]:
        port = free_port()
        command = [sys.executable, "-m", "videostyle.cli", "serve", "--port", str(port), "--output-dir", str(results)]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        for line in process.stderr:  # warnings may come first
            if "the page is at" in line:
                return process, f"http://127.0.0.1:{port}/"
        raise AssertionError(f"the server did not start (exit {process.wait()})")

    first, url = start_server()
    try:
        Client(url, verbose=False).submit(*arguments, api_name="/stylize_video")
        wait_until(lambda: len(list(results.glob(".*.run/frames/out_*.png"))) >= 2, "two finished frames")
    finally:
        first.kill()
        first.wait()
    second, url = start_server()
    try:
        *_, status = Client(url, verbose=False).predict(*arguments, api_name="/stylize_video")
    finally:
        second.terminate()
        second.wait()
    taken = int(status.split("frames (")[1].split(" taken")[0])
    assert status.startswith("**Done:** ") and "6 frames" in status and taken >= 2


def test_copies_handed_to_gradio_are_removed(tmp_path):
    import os

    from videostyle.serve.app import STAGED_SECONDS, Server

    server = Server(ServeSettings(tmp_path / "results"))
    result = tmp_path / "result.png"
    result.write_bytes(sample_image().read_bytes())
    old = server.stage(result)
    os.utime(os.path.dirname(old), (time.time() - STAGED_SECONDS - 1,) * 2)  # its folder's age counts
    new = server.stage(result)
    assert not os.path.exists(old) and os.path.exists(new) and result.exists()
    server.close()
    assert not server.staging.exists()
