"""Feed-forward image transformation networks (Johnson et al. 2016) and their normalisation.

Convention: every network takes and returns RGB in [0, 1], ``B x 3 x H x W``, for any ``H``,
``W`` (inputs are reflection-padded to a multiple of the network's stride and cropped back).

- :class:`TransformerNet` with ``arch="johnson"`` is the paper's network (Johnson et al. 2016,
  supplementary Table 1) with the changes everyone adopted since: instance normalisation
  (Ulyanov et al. 2016) instead of batch normalisation, reflection padding, and nearest
  upsampling followed by a convolution instead of transposed convolutions (no checkerboard,
  Odena et al. 2016).
- ``arch="fast"`` is our CPU variant: 12-24-48 channels, five depthwise-separable residual
  blocks, 3x3 outer convolutions (measured in docs/benchmarks.md).
- ``arch="lean"`` is the fast variant narrowed to 8-16-32 channels, with zero padding.
- ``arch="realtime"`` is the fast variant made for real time on the CPU: 16-32-64 channels, zero
  padding (no padding layers), a stride-2 first convolution and a sub-pixel output (Shi et al. 2016),
  so that nothing but the first and last convolutions touches the full-resolution picture.
- ``arch="reconet"`` is ReCoNet's network (Gao et al. 2018): 48-96-192 channels, four residual
  blocks; trained with temporal losses on its encoder's output (:meth:`TransformerNet.encode`).
- ``num_styles > 1`` swaps every instance normalisation for a conditional one (Dumoulin et al.
  2017): one network, a scale and shift per style, any convex combination at inference.
- ``adaptive=True`` takes every normalisation's scale and shift from outside, per image
  (``B x P`` with P = :attr:`TransformerNet.num_norm_params`), as predicted from a style's
  statistics by :class:`~videostyle.models.arbitrary.StylePredictor` (Ghiasi et al. 2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import VideostyleError
from ..io.image import pad_to_multiple

ARCHITECTURES = ("johnson", "fast", "lean", "realtime", "reconet")
PADDINGS = ("reflect", "zero")


class NormKind(StrEnum):
    """The normalisation of every layer: one learned scale and shift (instance norm, one style), one per
    style mixed by the style weights (conditional instance norm, Dumoulin et al. 2017), or given from
    outside per image (adaptive, Ghiasi et al. 2017)."""

    INSTANCE = "instance"
    CONDITIONAL = "conditional"
    ADAPTIVE = "adaptive"


@dataclass(frozen=True)
class TransformerConfig:
    """Everything needed to rebuild a :class:`TransformerNet` (stored in every model file)."""

    arch: str = "johnson"
    num_styles: int = 1
    channels: tuple[int, int, int] = (32, 64, 128)
    residual_blocks: int = 5
    outer_kernel: int = 9
    separable: bool = False
    style_names: tuple[str, ...] = field(default_factory=tuple)
    adaptive: bool = False
    #: ``reflect`` (a padding layer before each convolution) or ``zero`` (the convolution's own).
    padding: str = "reflect"
    #: Stride of the first convolution; the last one makes ``input_stride**2`` pixels per position (sub-pixel).
    input_stride: int = 1

    #: Fields that name things rather than shape the weights: a fine-tuning run (``--init``) may change them.
    LABELS = ("style_names",)

    @property
    def norm_kind(self) -> NormKind:
        if self.adaptive:
            return NormKind.ADAPTIVE
        return NormKind.CONDITIONAL if self.num_styles > 1 else NormKind.INSTANCE

    @classmethod
    def for_arch(cls, arch: str, num_styles: int = 1, style_names=(), adaptive: bool = False) -> TransformerConfig:
        if arch == "johnson":
            return cls("johnson", num_styles, (32, 64, 128), 5, 9, False, tuple(style_names), adaptive)
        if arch == "fast":
            return cls("fast", num_styles, (12, 24, 48), 5, 3, True, tuple(style_names), adaptive)
        if arch == "lean":
            return cls("lean", num_styles, (8, 16, 32), 5, 3, True, tuple(style_names), adaptive, padding="zero")
        if arch == "realtime":
            return cls("realtime", num_styles, (16, 32, 64), 5, 3, True, tuple(style_names), adaptive, padding="zero", input_stride=2)
        if arch == "reconet":
            return cls("reconet", num_styles, (48, 96, 192), 4, 9, False, tuple(style_names), adaptive)
        raise VideostyleError(f"unknown network architecture {arch!r}; choose {' or '.join(ARCHITECTURES)}")

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> TransformerConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise VideostyleError(f"unknown network settings {sorted(unknown)} (a newer videostyle's model?)")
        values: dict[str, Any] = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        return cls(**values)


#: Reflected margin around the input of a zero-padding network, cropped from its output (a multiple of every stride).
#: The band the zeros leave along the border was 3-9 px wide on the bundled lean and realtime models; 16 px leaves
#: the border columns as close to the fast network's output as the middle of the picture (measured on vtest.avi).
ZERO_PADDING_MARGIN = 16

#: The epsilon of every instance normalisation here (PyTorch's default).
NORM_EPS = 1e-5


class ConditionalInstanceNorm2d(nn.Module):
    """Instance normalisation with a learned scale and shift per style (Dumoulin et al. 2017).

    ``forward(x, style_weights)``: ``x`` is ``B x C x H x W``; ``style_weights`` is ``B x N``
    (rows are convex combinations; one-hot picks one style). The scale and shift used are
    ``style_weights @ weight`` and ``style_weights @ bias`` (the paper's style interpolation).
    """

    def __init__(self, channels: int, num_styles: int, eps: float = NORM_EPS):
        super().__init__()
        self.num_styles, self.eps = num_styles, eps
        self.weight = nn.Parameter(torch.ones(num_styles, channels))
        self.bias = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor) -> torch.Tensor:
        scale = (style_weights @ self.weight)[:, :, None, None]
        shift = (style_weights @ self.bias)[:, :, None, None]
        return F.instance_norm(x, eps=self.eps) * scale + shift


class _Norm(nn.Module):
    """One normalisation layer of ``kind`` behind one call (adaptive: scale and shift are slices of the
    per-image parameter vector, at ``offset``)."""

    def __init__(self, channels: int, kind: NormKind, num_styles: int = 1):
        super().__init__()
        self.channels, self.conditional, self.adaptive = channels, kind is NormKind.CONDITIONAL, kind is NormKind.ADAPTIVE
        self.offset = 0  # where this layer's [scale, shift] start in the adaptive parameter vector
        self.norm: nn.Module | None = None
        if kind is NormKind.CONDITIONAL:
            self.norm = ConditionalInstanceNorm2d(channels, num_styles)
        elif kind is NormKind.INSTANCE:
            self.norm = nn.InstanceNorm2d(channels, affine=True)

        #: Per-image channel ``(mean, variance)``, ``B x C x 1 x 1`` each, used instead of each input's own while
        #: set (tiles of one picture normalised alike: :meth:`TransformerNet.record_statistics`).
        self.statistics: tuple[torch.Tensor, torch.Tensor] | None = None
        self.recording = False

    def forward(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        if self.recording or self.statistics is not None:
            return self._affine(self._normalized(x), style)
        if self.adaptive:
            return self._affine(F.instance_norm(x), style)
        assert self.norm is not None  # only the adaptive kind has none
        return self.norm(x, style) if self.conditional else self.norm(x)

    def _normalized(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` normalised by the recorded statistics (recording them first when asked)."""
        if self.recording:
            self.statistics = (x.mean((2, 3), keepdim=True), x.var((2, 3), keepdim=True, unbiased=False))
        assert self.statistics is not None
        mean, variance = self.statistics
        return (x - mean) * torch.rsqrt(variance + NORM_EPS)

    def _affine(self, normalized: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        """The layer's scale and shift on normalised features: its own, the styles' mix, or given per image."""
        if self.adaptive:
            assert style is not None  # TransformerNet.style_weights insists on the parameters
            scale = style[:, self.offset : self.offset + self.channels, None, None]
            shift = style[:, self.offset + self.channels : self.offset + 2 * self.channels, None, None]
        elif self.conditional:
            assert style is not None  # TransformerNet.style_weights insists on the weights
            weight, bias = self.affine_parameters()
            scale = (style @ weight)[:, :, None, None]
            shift = (style @ bias)[:, :, None, None]
        else:
            weight, bias = self.affine_parameters()
            scale, shift = weight[None, :, None, None], bias[None, :, None, None]
        return normalized * scale + shift

    def affine_parameters(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The scale and shift of an instance or conditional layer (``C``, or ``N x C`` for ``N`` styles)."""
        assert isinstance(self.norm, (nn.InstanceNorm2d, ConditionalInstanceNorm2d))
        return self.norm.weight, self.norm.bias


def subpixel_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The 3x3 kernel ``O x I x 3 x 3`` of a convolution applied after 2x nearest upsampling, rewritten to run
    before it: ``4O x I x 3 x 3``, whose output pixel-shuffled by 2 (Shi et al. 2016) is the same picture.

    Along each axis an output pixel of phase 0 (even) sees the low-resolution taps ``(-1, 0)`` with weights
    ``(w0, w1 + w2)``; phase 1 (odd) sees ``(0, +1)`` with ``(w0 + w1, w2)``. No upsampled tensor is made.
    """
    taps = weight.new_tensor([[[1, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]])  # phase x tap x kernel index
    kernel = torch.einsum("ytk,xsl,oikl->oyxits", taps, taps, weight)  # O x phase_y x phase_x x I x tap_y x tap_x
    return kernel.reshape(-1, *weight.shape[1:])


class _Conv(nn.Module):
    """Padding (reflection, or the convolution's own zeros) + convolution (optionally depthwise-separable);
    2x nearest upsampling first if asked, computed as a sub-pixel convolution (:func:`subpixel_kernel`)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, upsample: int = 1, separable: bool = False, padding: str = "reflect"):
        super().__init__()
        if upsample not in (1, 2) or (upsample == 2 and (kernel != 3 or stride != 1 or (separable and in_channels == out_channels))):
            raise ValueError("an upsampling layer is a plain 3x3 convolution of stride 1 after 2x upsampling")
        self.upsample, self.zero_padding = upsample, padding == "zero"
        own = kernel // 2 if self.zero_padding else 0
        self.pad = nn.Identity() if self.zero_padding else nn.ReflectionPad2d(kernel // 2)
        self.conv: nn.Conv2d | nn.Sequential
        if separable and in_channels == out_channels:
            self.conv = nn.Sequential(
                nn.Conv2d(in_channels, in_channels, kernel, stride, padding=own, groups=in_channels, bias=False),
                nn.Conv2d(in_channels, out_channels, 1),
            )
        else:
            self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, padding=own)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample == 2:
            # Reflection at the upsampled size is replication at this size (one pixel, kernel 3); zeros stay zeros.
            x = x if self.zero_padding else F.pad(x, (1, 1, 1, 1), mode="replicate")
            conv = self.first()  # an upsampling layer is one plain convolution
            bias = None if conv.bias is None else conv.bias.repeat_interleave(4)
            return F.pixel_shuffle(F.conv2d(x, subpixel_kernel(conv.weight), bias, padding=1 if self.zero_padding else 0), 2)
        return self.conv(self.pad(x))

    def first(self) -> nn.Conv2d:
        """The convolution that sets the layer's kernel and stride (the depthwise one of a separable layer)."""
        return cast(nn.Conv2d, self.conv[0] if isinstance(self.conv, nn.Sequential) else self.conv)


#: ``channels -> normalisation layer`` of one network (its kind and number of styles bound).
NormFactory = Callable[[int], _Norm]


class _ConvNormReLU(nn.Module):
    def __init__(self, in_channels, out_channels, kernel, norm: NormFactory, stride=1, upsample=1, separable=False, relu=True, padding="reflect"):
        super().__init__()
        self.conv = _Conv(in_channels, out_channels, kernel, stride, upsample, separable, padding)
        self.norm = norm(out_channels)
        self.relu = relu

    def forward(self, x, style_weights):
        x = self.norm(self.conv(x), style_weights)
        return F.relu(x) if self.relu else x


class _Residual(nn.Module):
    """Two 3x3 conv-norm layers with an identity shortcut (Johnson et al., after He et al. 2016)."""

    def __init__(self, channels: int, norm: NormFactory, separable: bool, padding: str):
        super().__init__()
        self.first = _ConvNormReLU(channels, channels, 3, norm, separable=separable, padding=padding)
        self.second = _ConvNormReLU(channels, channels, 3, norm, separable=separable, relu=False, padding=padding)

    def forward(self, x, style_weights):
        return x + self.second(self.first(x, style_weights), style_weights)


class TransformerNet(nn.Module):
    """Image transformation network: ``B x 3 x H x W`` in [0, 1] -> same shape in [0, 1].

    Call ``net(images)`` for a single-style network, ``net(images, style_weights)`` (``B x N``
    or ``N``) for a conditional one. The output is ``(tanh + 1) / 2``, in [0, 1] without a
    clamp's dead gradients. Input sides are padded to a multiple of :attr:`stride` (4, or 8 with
    ``input_stride=2``).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        if config.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, not {config.padding!r}")
        if config.input_stride not in (1, 2):
            raise ValueError(f"input_stride must be 1 or 2, not {config.input_stride!r}")
        self.config = config
        self.stride = 4 * config.input_stride
        c1, c2, c3 = config.channels
        k, separable, padding = config.outer_kernel, config.separable, config.padding

        def n(channels: int) -> _Norm:
            return _Norm(channels, config.norm_kind, config.num_styles)

        self.down = nn.ModuleList(
            [
                _ConvNormReLU(3, c1, k, n, stride=config.input_stride, padding=padding),
                _ConvNormReLU(c1, c2, 3, n, stride=2, padding=padding),
                _ConvNormReLU(c2, c3, 3, n, stride=2, padding=padding),
            ]
        )
        self.residuals = nn.ModuleList([_Residual(c3, n, separable, padding) for _ in range(config.residual_blocks)])
        self.up = nn.ModuleList(
            [
                _ConvNormReLU(c3, c2, 3, n, upsample=2, padding=padding),
                _ConvNormReLU(c2, c1, 3, n, upsample=2, padding=padding),
            ]
        )
        self.out = _Conv(c1, 3 * config.input_stride**2, k, padding=padding)
        self.num_norm_params = 0
        for module in self.modules():
            if isinstance(module, _Norm):
                module.offset = self.num_norm_params
                self.num_norm_params += 2 * module.channels

    @property
    def num_styles(self) -> int:
        return self.config.num_styles

    def norm_layers(self) -> list[_Norm]:
        """The normalisation layers in order (an adaptive network's parameter vector is laid out in this order)."""
        return [module for module in self.modules() if isinstance(module, _Norm)]

    def style_weights(self, batch: int, style_weights: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
        """Broadcast ``None`` (single style), ``N`` or ``B x N`` weights to ``B x N`` (adaptive: ``P`` or ``B x P`` parameters)."""
        if self.config.adaptive:
            if style_weights is None or style_weights.shape[-1] != self.num_norm_params:
                raise VideostyleError(f"this network needs {self.num_norm_params} normalisation parameters per image")
            return style_weights.expand(batch, -1) if style_weights.ndim == 1 else style_weights
        if self.num_styles == 1:
            return None
        if style_weights is None:
            raise VideostyleError(f"this network has {self.num_styles} styles: give style weights")
        weights = torch.as_tensor(style_weights, dtype=torch.float32, device=device)
        if weights.ndim == 1:
            weights = weights.expand(batch, -1)
        if weights.shape != (batch, self.num_styles):
            raise VideostyleError(f"style weights of shape {tuple(weights.shape)} for a batch of {batch} and {self.num_styles} styles")
        return weights

    def forward(self, images: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        height, width = images.shape[-2:]
        x = pad_to_multiple(images, self.stride)
        return self.core(x, self.style_weights(images.shape[0], style_weights, images.device))[..., :height, :width]

    def record_statistics(self, images: torch.Tensor, style_weights: torch.Tensor | None = None) -> None:
        """Run on ``images`` (``B x 3 x H x W``, typically a downscaled whole picture) and keep every normalisation
        layer's per-image statistics, so that later calls (its tiles) are normalised as that picture was, until
        :meth:`clear_statistics`. ``style_weights`` as in :meth:`forward`."""
        weights = self.style_weights(images.shape[0], style_weights, images.device)
        self.use_statistics(self.statistics_of(pad_to_multiple(images, self.stride), weights))

    def statistics_of(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Every normalisation layer's statistics over ``x`` (sides multiples of :attr:`stride`, as :meth:`core`
        takes it), ``B x 2S`` as :meth:`statistics_vector` lays them out; the network stops at its last
        normalisation layer and keeps no statistics."""
        norms = self.norm_layers()
        for norm in norms:
            norm.statistics, norm.recording = None, True
        try:
            x = self.encode(self._with_margin(x), style_weights)
            for layer in self.up:
                x = layer(x, style_weights)
            return self.statistics_vector()
        finally:
            for norm in norms:
                norm.recording, norm.statistics = False, None

    def statistics_vector(self) -> torch.Tensor:
        """The recorded statistics (:meth:`record_statistics`) as one ``B x 2S`` tensor: each normalisation layer's
        channel means then variances, in :meth:`norm_layers` order (``S``: all layers' channels)."""
        parts = []
        for layer in self.norm_layers():
            if layer.statistics is None:
                raise VideostyleError("no statistics recorded: call record_statistics first")
            mean, variance = layer.statistics
            parts += [mean.flatten(1), variance.flatten(1)]
        return torch.cat(parts, dim=1)

    def use_statistics(self, vector: torch.Tensor) -> None:
        """Normalise every later call with ``vector`` (``B x 2S``, from :meth:`statistics_vector`) until
        :meth:`clear_statistics`: the tiles of one picture normalised as the whole picture."""
        offset = 0
        for layer in self.norm_layers():
            mean = vector[:, offset : offset + layer.channels, None, None]
            variance = vector[:, offset + layer.channels : offset + 2 * layer.channels, None, None]
            layer.statistics, offset = (mean, variance), offset + 2 * layer.channels

    def reach(self) -> int:
        """Input pixels from an output pixel to the farthest input pixel that can change it, with the normalisation
        statistics fixed (an upper bound: each convolution adds its kernel's half-width in its input's cells, each
        nearest upsampling a whole cell). A window needs this much picture around a pixel to give the whole
        picture's value there; the receptive field is ``2 * reach + 1``.

        >>> TransformerNet(TransformerConfig(arch="fast")).reach()
        60
        """
        return math.ceil(self._radii()[1])

    def norm_reaches(self) -> list[int]:
        """:meth:`reach` at the input of each normalisation layer, in :meth:`norm_layers` order: the input pixels
        around an activation cell's own that can change it there.

        >>> TransformerNet(TransformerConfig(arch="fast", residual_blocks=1)).norm_reaches()
        [4, 5, 7, 11, 15, 21, 24]
        """
        return [math.ceil(radius) for radius in self._radii()[0]]

    def _radii(self) -> tuple[list[float], float]:
        """The bound of :meth:`reach` in input pixels at each normalisation layer's input, and at the output."""
        radii: list[float] = []
        radius, cell = 0.0, 1.0
        for layer in self.down:
            conv = cast(_ConvNormReLU, layer).conv.first()
            radius += conv.kernel_size[0] // 2 * cell
            cell *= conv.stride[0]
            radii.append(radius)
        for _ in self.residuals:  # two 3x3 convolutions per block
            radii += [radius + cell, radius + 2 * cell]
            radius += 2 * cell
        for _ in self.up:
            radius += cell  # the nearest upsampling's rounding
            cell /= 2
            radius += cell
            radii.append(radius)
        return radii, radius + self.config.outer_kernel // 2 * cell

    def clear_statistics(self) -> None:
        """Back to each input's own statistics (instance normalisation as trained)."""
        for layer in self.norm_layers():
            layer.statistics = None

    def core(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        """The network on ``x`` whose sides are multiples of :attr:`stride`; ``style_weights`` ``B x N`` or None.

        A zero-padding network sees ``x`` with a reflected margin of :data:`ZERO_PADDING_MARGIN` pixels on every side,
        cropped off again: the band its zeros leave along the border falls outside the picture.
        """
        margin = ZERO_PADDING_MARGIN if self.config.padding == "zero" else 0
        output = self.decode(self.encode(self._with_margin(x), style_weights), style_weights)
        return output[..., margin : output.shape[-2] - margin, margin : output.shape[-1] - margin] if margin else output

    def _with_margin(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with a zero-padding network's reflected margin (:data:`ZERO_PADDING_MARGIN`); as it is otherwise."""
        margin = ZERO_PADDING_MARGIN if self.config.padding == "zero" else 0
        return F.pad(x, (margin,) * 4, mode="reflect" if min(x.shape[-2:]) > margin else "replicate") if margin else x

    def norm_inputs(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> Generator[torch.Tensor, None, None]:
        """The input of each normalisation layer in turn (:meth:`norm_layers` order), for ``x`` as :meth:`encode`
        takes it: the network runs only as far as the caller reads, each layer normalising with what it holds
        (:meth:`use_statistics`), so a caller can set a layer's statistics before the next is reached. The layers of
        :meth:`encode` and :meth:`decode` in order, before the output convolution."""

        def conv_norm(module: _ConvNormReLU, x: torch.Tensor) -> Generator[torch.Tensor, None, torch.Tensor]:
            x = module.conv(x)
            yield x
            x = module.norm(x, style_weights)
            return F.relu(x) if module.relu else x

        for layer in self.down:
            x = yield from conv_norm(cast(_ConvNormReLU, layer), x)
        for block in self.residuals:
            block = cast(_Residual, block)
            inner = yield from conv_norm(block.first, x)
            x = x + (yield from conv_norm(block.second, inner))
        for layer in self.up:
            x = yield from conv_norm(cast(_ConvNormReLU, layer), x)

    def encode(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Downsampling and residual blocks: ``B x 3 x H x W`` -> ``B x C x H/s x W/s`` with ``s`` the :attr:`stride` (ReCoNet's encoder output)."""
        for layer in self.down:
            x = layer(x, style_weights)
        for block in self.residuals:
            x = block(x, style_weights)
        return x

    def decode(self, x: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Upsampling to an image in [0, 1]."""
        for layer in self.up:
            x = layer(x, style_weights)
        x = self.out(x)
        if self.config.input_stride > 1:
            x = F.pixel_shuffle(x, self.config.input_stride)
        return (torch.tanh(x) + 1) / 2
