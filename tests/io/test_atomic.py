import os
import stat

import torch

from videostyle.io.atomic import atomic_path
from videostyle.models.files import save_model


def _usual_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def test_outputs_get_the_usual_permissions_even_when_the_writer_replaces_the_file(tmp_path):
    """safetensors writes its files 0600; a model from `videostyle train` must be readable like any output."""
    path = save_model(tmp_path / "model.safetensors", {"weight": torch.zeros(2)}, "transformer", {})
    assert stat.S_IMODE(path.stat().st_mode) == _usual_file_mode()
    with atomic_path(tmp_path / "notes.txt") as tmp:
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    assert stat.S_IMODE((tmp_path / "notes.txt").stat().st_mode) == _usual_file_mode()
