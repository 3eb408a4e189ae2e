from fractions import Fraction

import av
import numpy as np
import pytest

from synthetic import texture, translating_clip, write_audio_only, write_clip
from videostyle.errors import VideostyleError
from videostyle.io.video import VideoReader, VideoWriter, check_video_destination

NTSC = Fraction(30000, 1001)


def audio_streams(path):
    with av.open(str(path)) as container:
        return [(s.codec_context.name, float(s.duration * s.time_base) if s.duration else None) for s in container.streams.audio]


def test_round_trip_keeps_frame_count_size_and_exact_rate(tmp_path):
    frames = translating_clip(12, 32, 48)
    source = write_clip(tmp_path / "in.mp4", frames, fps=NTSC)
    reader = VideoReader(source)
    assert (reader.info.width, reader.info.height, reader.info.fps, reader.info.frame_count) == (48, 32, NTSC, 12)
    with VideoWriter(tmp_path / "out.mp4", reader.info.fps) as writer:
        for frame in reader:
            writer.write(frame)
    again = VideoReader(tmp_path / "out.mp4")
    assert again.info.fps == NTSC and again.info.frame_count == 12
    decoded = list(again)
    assert len(decoded) == 12
    difference = lambda a, b: np.abs(a.astype(int) - b.astype(int)).mean()
    distances = [difference(decoded[5], frame) for frame in frames]
    assert int(np.argmin(distances)) == 5 and distances[5] < 16  # lossy (yuv420p on a noisy texture), but frame 5


def test_audio_is_copied_and_trimmed_with_the_video(tmp_path):
    source = write_clip(tmp_path / "tone.mp4", translating_clip(30, 32, 32), fps=Fraction(30), tone_hz=440)
    assert VideoReader(source).info.has_audio
    with VideoWriter(tmp_path / "full.mp4", Fraction(30), audio_from=source) as writer:
        for frame in VideoReader(source):
            writer.write(frame)
    [(codec, seconds)] = audio_streams(tmp_path / "full.mp4")
    assert codec == "aac" and seconds == pytest.approx(1.0, abs=0.08)
    reader = VideoReader(source, start=0.25, end=0.75)
    with VideoWriter(tmp_path / "cut.mp4", Fraction(30), audio_from=source, audio_start=0.25, audio_end=0.75) as writer:
        count = sum(1 for frame in reader if writer.write(frame) is None)
    assert count == 15
    [(codec, seconds)] = audio_streams(tmp_path / "cut.mp4")
    assert seconds == pytest.approx(0.5, abs=0.08)


def test_no_audio_in_gives_no_audio_out(tmp_path):
    source = write_clip(tmp_path / "silent.mp4", translating_clip(4, 16, 16))
    with VideoWriter(tmp_path / "out.mp4", NTSC, audio_from=source) as writer:
        for frame in VideoReader(source):
            writer.write(frame)
    assert audio_streams(tmp_path / "out.mp4") == []


def test_odd_sizes_are_padded_and_said(tmp_path):
    with VideoWriter(tmp_path / "odd.mp4", Fraction(25)) as writer:
        for _ in range(3):
            writer.write(texture(33, 45))
    assert writer.notes and "padded 45x33 to 46x34" in writer.notes[0]
    assert (VideoReader(tmp_path / "odd.mp4").info.width, VideoReader(tmp_path / "odd.mp4").info.height) == (46, 34)


def test_gif_and_frame_folder_outputs_and_folder_input(tmp_path):
    frames = translating_clip(5, 20, 24)
    with VideoWriter(tmp_path / "out.gif", Fraction(10)) as writer:
        for frame in frames:
            writer.write(frame)
    assert VideoReader(tmp_path / "out.gif").info.frame_count == 5
    with VideoWriter(tmp_path / "frames", Fraction(10)) as writer:
        for frame in frames:
            writer.write(frame)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir())[:2] == ["frame_000001.png", "frame_000002.png"]
    reader = VideoReader(tmp_path / "frames", folder_fps=12)
    assert reader.info.fps == 12
    read = list(reader)
    assert len(read) == 5 and np.array_equal(read[3], frames[3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "out.gif"]  # no temporary leftovers


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), VideoWriter(tmp_path / "out.mp4", Fraction(25)) as writer:
        writer.write(texture(16, 16))
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_reader_errors(tmp_path):
    with pytest.raises(VideostyleError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")
    (tmp_path / "notes.mp4").write_text("hello, not a video")
    with pytest.raises(VideostyleError, match="not a readable video"):
        VideoReader(tmp_path / "notes.mp4")
    with pytest.raises(VideostyleError, match="no video stream"):
        VideoReader(write_audio_only(tmp_path / "sound.m4a"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideostyleError, match="no image frames"):
        VideoReader(tmp_path / "empty")
    source = write_clip(tmp_path / "in.mp4", translating_clip(3, 16, 16))
    with pytest.raises(VideostyleError, match="must be after"):
        VideoReader(source, start=2, end=1)
    with pytest.raises(VideostyleError, match=r"start \(5 s\) is at or beyond the end of in.mp4") as error:
        VideoReader(source, start=5.0)  # refused on opening, before any output or run folder exists
    assert error.value.parameter == "start"


def test_a_truncated_file_stops_at_the_last_good_frame_with_a_warning(tmp_path):
    source = write_clip(tmp_path / "in.mkv", translating_clip(40, 64, 64))
    data = source.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    reader = VideoReader(cut)
    frames = list(reader)
    assert 0 < len(frames) < 40


def test_destination_checks(tmp_path):
    with pytest.raises(VideostyleError, match="unknown video format"):
        check_video_destination(tmp_path / "out.xyz")
    with pytest.raises(VideostyleError, match="output folder does not exist"):
        check_video_destination(tmp_path / "missing" / "out.mp4")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.png").write_bytes(b"")
    with pytest.raises(VideostyleError, match="not empty"):
        check_video_destination(tmp_path / "full")


def test_rotation_metadata_is_applied_to_frames(tmp_path):
    frames = [texture(16, 32, seed=2)] * 3
    path = write_clip(tmp_path / "rotated.mp4", frames, fps=Fraction(25), lossless=True, rotation=90)  # counter-clockwise
    reader = VideoReader(path)
    assert (reader.info.rotation, reader.info.width, reader.info.height) == (90, 16, 32)
    first = next(iter(reader))
    assert first.shape == (32, 16, 3)
    expected = np.rot90(frames[0], 1)  # shown turned a quarter counter-clockwise
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 3
