"""A frozen VGG encoder that hands out named activations.

``encoder(x, ["relu1_1", "relu4_2"])`` takes RGB in [0, 1] (``B x 3 x H x W``), applies
the input convention its weights were trained with, runs only as deep as the deepest
requested layer and returns ``{"relu1_1": B x 64 x H x W, "relu4_2": B x 512 x H/8 x W/8}``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from ..errors import VideostyleError
from .weights import VGG_CONFIGS, cached_vgg16_state, conv_indices, load_state_dict_file

#: Caffe/Keras VGG input: BGR, 0-255, minus this per-channel mean (B, G, R); no std division.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
#: torchvision VGG input: RGB in [0, 1], minus mean, divided by std.
TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
TORCH_STD_RGB = (0.229, 0.224, 0.225)
INPUT_CONVENTIONS = ("caffe", "torch")


def layer_names(arch: str) -> list[str]:
    """Names of every module of ``vgg*().features`` in order: conv1_1, relu1_1, ..., pool5."""
    names, block, conv = [], 1, 1
    for item in VGG_CONFIGS[arch]:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return names


def layer_stride(layer: str) -> int:
    """Pixels per feature cell of a VGG layer named ``reluB_C`` / ``convB_C``: 2^(B-1).

    >>> layer_stride("relu4_2")
    8
    """
    return 2 ** (int(layer[4:].split("_")[0]) - 1)


class VGGEncoder(nn.Module):
    """Frozen VGG-16/19 feature extractor with named layers (``relu1_1`` ... ``relu5_3``/``relu5_4``).

    Args:
        state_dict: torchvision-layout weights (``features.N.weight``/``bias``).
        arch: ``"vgg16"`` or ``"vgg19"``.
        input_convention: ``"caffe"`` (BGR 0-255 minus mean; the bundled VGG-16 and the
            Caffe-converted VGG-19 of jcjohnson/neural-style) or ``"torch"`` (torchvision's
            normalisation).
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. 2015 found average
            pooling gives slightly smoother results).
    """

    mean: torch.Tensor  # buffers: the input convention's mean and std, 1 x 3 x 1 x 1
    std: torch.Tensor
    features: nn.Sequential

    def __init__(self, state_dict: dict[str, torch.Tensor], arch: str = "vgg16", input_convention: str = "caffe", pooling: str = "max"):
        super().__init__()
        if arch not in VGG_CONFIGS:
            raise VideostyleError(f"unknown encoder architecture {arch!r}; choose from {', '.join(VGG_CONFIGS)}")
        if input_convention not in INPUT_CONVENTIONS:
            raise VideostyleError(f"unknown input convention {input_convention!r}; choose caffe or torch")
        if pooling not in ("max", "avg"):
            raise VideostyleError(f"unknown pooling {pooling!r}; choose max or avg")
        self.arch, self.input_convention, self.pooling = arch, input_convention, pooling
        self.names = layer_names(arch)
        modules: list[nn.Module] = []
        in_channels = 3
        for item in VGG_CONFIGS[arch]:
            if item == "M":
                # ceil_mode: identical to torchvision on even sizes, and any image of >= 1 px
                # reaches relu5_x instead of failing on a map of size 0.
                modules.append(nn.MaxPool2d(2, 2, ceil_mode=True) if pooling == "max" else nn.AvgPool2d(2, 2, ceil_mode=True))
            else:
                assert isinstance(item, int)
                modules += [nn.Conv2d(in_channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                in_channels = item
        self.features = nn.Sequential(*modules)
        self._load(state_dict)
        self.requires_grad_(False)
        self.eval()
        if input_convention == "caffe":
            self.register_buffer("mean", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.ones(1, 3, 1, 1), persistent=False)
        else:
            self.register_buffer("mean", torch.tensor(TORCH_MEAN_RGB).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(TORCH_STD_RGB).view(1, 3, 1, 1), persistent=False)

    def _load(self, state_dict: dict[str, torch.Tensor]) -> None:
        expected = {f"features.{i}.{kind}" for i in conv_indices(self.arch) for kind in ("weight", "bias")}
        missing = sorted(expected - set(state_dict), key=lambda k: int(k.split(".")[1]))
        if missing:
            raise VideostyleError(f"{self.arch} weights are missing {len(missing)} tensors (first: {missing[0]}); is it a {self.arch} state dict?")
        own = {f"features.{k.split('.', 1)[1]}": v for k, v in self.state_dict().items()}
        for key in expected:
            if tuple(state_dict[key].shape) != tuple(own[key].shape):
                raise VideostyleError(f"{self.arch} weight {key} has shape {tuple(state_dict[key].shape)}, expected {tuple(own[key].shape)}")
        self.load_state_dict({key: state_dict[key] for key in expected}, strict=True)

    def train(self, mode: bool = True) -> VGGEncoder:
        return super().train(False)  # always frozen, always in eval mode

    def check_layers(self, layers: Iterable[str]) -> None:
        unknown = [name for name in layers if name not in self.names]
        if unknown:
            known = ", ".join(name for name in self.names if name.startswith("relu"))
            raise VideostyleError(f"unknown layer {unknown[0]!r} for {self.arch}; known layers: {known}")

    def reach(self, layer: str) -> int:
        """Pixels from a cell's centre to the farthest input pixel that can change it at ``layer`` (an upper
        bound: each 3x3 convolution adds one cell, each 2x2 pooling a whole cell), so that features computed on
        a window with this much context are those of the whole picture (VGG-16: 41 px at relu4_2, 73 at relu5_1).
        """
        self.check_layers([layer])
        radius, cell = 0, 1
        for module in self.layers_to(layer):
            if isinstance(module, nn.Conv2d):
                radius += (module.kernel_size[0] // 2) * cell
            elif isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
                radius += cell
                cell *= 2
        return radius

    def layers_to(self, layer: str) -> list[nn.Module]:
        """The modules from the input up to and including ``layer``."""
        return list(self.features)[: self.names.index(layer) + 1]

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> the weights' input convention."""
        if self.input_convention == "caffe":
            return image.flip(1) * 255.0 - self.mean
        return (image - self.mean) / self.std

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """``B x 3 x H x W`` RGB in [0, 1] -> ``{name: B x C x h x w}`` for each requested layer."""
        self.check_layers(layers)
        wanted = set(layers)
        deepest = max(self.names.index(name) for name in wanted)
        out = {}
        x = self.preprocess(image)
        for index, module in enumerate(self.layers_to(self.names[deepest])):
            x = module(x)
            if self.names[index] in wanted:
                out[self.names[index]] = x
        return out


@functools.lru_cache(maxsize=4)
def _state_for(weights: str | None) -> dict[str, torch.Tensor]:
    return cached_vgg16_state() if weights is None else load_state_dict_file(weights)


def load_encoder(
    weights: str | None = None,
    arch: str = "vgg16",
    input_convention: str | None = None,
    pooling: str = "max",
    device: torch.device | str | None = None,
) -> VGGEncoder:
    """Build a frozen encoder.

    With ``weights=None`` this is the bundled ImageNet VGG-16 (Caffe input convention).
    With a file path it loads a user-supplied torchvision-layout state dict for ``arch``;
    ``input_convention`` defaults to ``"torch"`` for such files (torchvision's weights) and
    must be set to ``"caffe"`` for Caffe-converted weights.
    """
    if weights is None and arch != "vgg16":
        raise VideostyleError(f"no {arch} weights are bundled; pass a weights file (for example torchvision's {arch} state dict)")
    convention = input_convention or ("caffe" if weights is None else "torch")
    encoder = VGGEncoder(_state_for(None if weights is None else str(weights)), arch=arch, input_convention=convention, pooling=pooling)
    return encoder.to(device) if device is not None else encoder
