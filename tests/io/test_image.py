import numpy as np
import pytest
import torch
from PIL import Image

from videostyle.errors import VideostyleError
from videostyle.io import atomic_path, load_image, save_image, to_tensor, to_uint8
from videostyle.io import image as image_module


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "1"])
def test_every_pillow_mode_becomes_rgb(tmp_path, mode):
    image = Image.new("RGB", (5, 4), (200, 100, 50)).convert(mode)
    path = tmp_path / f"image.{'tif' if mode in ('CMYK', 'I;16') else 'png'}"
    image.save(path)
    loaded = load_image(path)
    assert loaded.mode == "RGB" and loaded.size == (5, 4)


def test_transparent_pixels_are_composited_over_white(tmp_path):
    array = np.zeros((2, 2, 4), np.uint8)
    array[0, 0] = (255, 0, 0, 255)  # opaque red; the rest fully transparent black
    Image.fromarray(array, "RGBA").save(tmp_path / "alpha.png")
    loaded = np.asarray(load_image(tmp_path / "alpha.png"))
    assert loaded[0, 0].tolist() == [255, 0, 0] and loaded[1, 1].tolist() == [255, 255, 255]


def test_to_tensor_accepts_arrays_tensors_and_pillow():
    array = np.arange(24, dtype=np.uint8).reshape(2, 4, 3) * 10
    from_array = to_tensor(array)
    assert from_array.shape == (1, 3, 2, 4) and from_array.dtype == torch.float32
    torch.testing.assert_close(to_tensor(Image.fromarray(array)), from_array)
    torch.testing.assert_close(to_tensor(from_array[0]), from_array)
    assert to_tensor(np.zeros((3, 5))).shape == (1, 3, 3, 5)
    assert np.array_equal(to_uint8(from_array), array)


def test_a_float_picture_on_the_0_255_scale_is_refused_not_saturated():
    """Float arrays and tensors are read as [0, 1]; one on 0-255 would come out white. A little overshoot is kept."""
    on_255 = np.full((4, 4, 3), 200.0)
    for picture in (on_255, torch.from_numpy(on_255).permute(2, 0, 1)):
        with pytest.raises(VideostyleError, match="divide 0-255 values by 255"):
            to_tensor(picture)
    assert float(to_tensor(np.full((4, 4, 3), 1.03)).max()) == pytest.approx(1.03)


def test_to_uint8_clamps_and_rounds():
    tensor = torch.tensor([-0.5, 0.5 / 255 + 1e-4, 2.0]).view(1, 3, 1, 1)
    assert to_uint8(tensor).flatten().tolist() == [0, 1, 255]


def test_missing_corrupt_and_empty_files_are_user_errors(tmp_path):
    with pytest.raises(VideostyleError, match="no such file"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(VideostyleError, match="not an image"):
        load_image(tmp_path / "text.png")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(good)
    (tmp_path / "truncated.png").write_bytes(good.read_bytes()[:60])
    with pytest.raises(VideostyleError):
        load_image(tmp_path / "truncated.png")
    with pytest.raises(VideostyleError, match="no pixels"):
        to_tensor(np.zeros((0, 4, 3), np.uint8))


def test_save_is_atomic_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.png"
    save_image(torch.rand(1, 3, 4, 4), target)
    assert Image.open(target).size == (4, 4)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_output_folder_must_exist(tmp_path):
    with pytest.raises(VideostyleError, match="output folder does not exist"):
        save_image(torch.rand(1, 3, 4, 4), tmp_path / "missing" / "out.png")


def test_temporary_leftovers_of_dead_processes_are_removed_once_per_folder(tmp_path):
    import os
    import subprocess
    import sys

    from videostyle.io import atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True).stdout.strip()
    leftovers = [tmp_path / f".out.{dead}.abc.partial.mp4", tmp_path / f".frames.{dead}.xyz.partial", tmp_path / f".anim.gif.{dead}.q1.frames"]
    leftovers[0].write_bytes(b"")
    leftovers[1].mkdir()
    leftovers[2].mkdir()
    mine = tmp_path / f".out.{os.getpid()}.def.partial.mp4"  # a live process's work in progress
    mine.write_bytes(b"")
    (tmp_path / "out.mp4").write_bytes(b"a finished output")
    atomic.remove_stale_partials(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "out.mp4"])
    leftovers[0].write_bytes(b"")  # appears after this process looked: left for the next process
    atomic.remove_stale_partials(tmp_path)
    assert leftovers[0].exists()


def test_to_uint8_in_bands_gives_the_whole_conversion(monkeypatch):
    """A picture converted a band of rows at a time (as a big picture is, to hold no float copy of it) is the same
    to the byte as the conversion of the whole, at every band edge."""
    tensor = torch.rand(1, 3, 37, 11) * 1.4 - 0.2
    whole = tensor[0].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    monkeypatch.setattr(image_module, "BAND_VALUES", 3 * 11 * 4)  # bands of 4 rows, the last of 1
    banded = to_uint8(tensor)
    assert banded.flags["C_CONTIGUOUS"] and np.array_equal(banded, whole)
