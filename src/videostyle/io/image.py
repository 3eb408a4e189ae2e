"""Image reading, writing and conversion.

The one tensor convention of videostyle: float32 RGB in [0, 1], shape ``B x 3 x H x W``.
``to_tensor`` brings any user image into it, ``to_uint8`` / ``to_pil`` take it back out
(clamped and rounded), and ``save_image`` writes atomically.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import VideostyleError
from .atomic import atomic_path, check_writable_destination

#: Transparent pixels are composited over this background (white, like a page).
ALPHA_BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (L, LA, P, PA, RGBA, CMYK, I;16, F, 1) to 8-bit RGB.

    Alpha is composited over white; palette images with transparency too; 16-bit and
    float grey images are rescaled to 0-255 from their own range.
    """
    if image.mode == "RGB":
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(array.max()), 1.0)
        if image.mode == "F" and array.max() <= 1.0:
            top = 1.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str | os.PathLike) -> Image.Image:
    """Read an image file as an 8-bit RGB Pillow image, honouring EXIF orientation.

    Raises VideostyleError with a one-line message for a missing file, a file that is
    not an image, a corrupt or truncated image, or an image with no pixels.
    """
    path = Path(path)
    if not path.exists():
        raise VideostyleError(f"no such file: {path}")
    if path.is_dir():
        raise VideostyleError(f"expected an image file, got a folder: {path}")
    return _decode(path, path)


def decode_image(data: bytes, name: str | os.PathLike) -> Image.Image:
    """:func:`load_image` of a file's bytes (sent to a worker); ``name`` is the file named in errors."""
    import io

    return _decode(io.BytesIO(data), Path(name))


def _decode(source, path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image = to_rgb(image)
    except UnidentifiedImageError:
        raise VideostyleError(f"not an image (or an unsupported format): {path}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise VideostyleError(f"image is too large to read safely: {path}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise VideostyleError(f"cannot read image {path}: {error}") from None
    if image.width == 0 or image.height == 0:
        raise VideostyleError(f"image has no pixels: {path}")
    return image


def to_tensor(image, device: torch.device | str | None = None) -> torch.Tensor:
    """Convert a path, Pillow image, array or tensor to float32 RGB in [0, 1], ``1 x 3 x H x W``.

    Arrays may be ``H x W`` (grey), ``H x W x 1``, ``H x W x 3`` or ``H x W x 4`` (alpha
    over white), uint8 (0-255) or float (0-1). Tensors may be ``H x W``, ``C x H x W`` or
    ``B x C x H x W`` with C in {1, 3}; they are assumed to be in [0, 1] already.
    """
    if isinstance(image, (str, os.PathLike)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        image = np.asarray(to_rgb(image))
    if isinstance(image, np.ndarray):
        tensor = _array_to_tensor(image)
    elif isinstance(image, torch.Tensor):
        tensor = _tensor_to_bchw(image)
    else:
        raise VideostyleError(f"cannot use {type(image).__name__} as an image")
    if tensor.shape[-1] == 0 or tensor.shape[-2] == 0:
        raise VideostyleError("image has no pixels")
    return tensor.to(device) if device is not None else tensor


def picture_array(image) -> np.ndarray | None:
    """An 8-bit ``H x W x 3`` RGB array of a path, Pillow image or such an array (the array itself), without a float
    copy; None for anything else (a tensor, a float array), which :func:`to_tensor` converts."""
    if isinstance(image, (str, os.PathLike)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        return np.asarray(to_rgb(image))
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.size:
        return image
    return None


def _array_to_tensor(array: np.ndarray) -> torch.Tensor:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise VideostyleError(f"expected an H x W, H x W x 1, 3 or 4 array, got shape {array.shape}")
    if array.dtype == np.uint8:
        data = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        data = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        data = array.astype(np.float32)
        _check_unit_range(data, "array")
    else:
        raise VideostyleError(f"unsupported array dtype {array.dtype}")
    if data.shape[2] == 4:
        alpha = data[:, :, 3:4]
        data = data[:, :, :3] * alpha + (1.0 - alpha) * (np.array(ALPHA_BACKGROUND, np.float32) / 255.0)
    elif data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(data)).permute(2, 0, 1).unsqueeze(0).contiguous()


def _tensor_to_bchw(tensor: torch.Tensor) -> torch.Tensor:
    if tensor.ndim == 2:
        tensor = tensor[None, None]
    elif tensor.ndim == 3:
        tensor = tensor[None]
    if tensor.ndim != 4 or tensor.shape[1] not in (1, 3):
        raise VideostyleError(f"expected a B x 3 x H x W (or 1-channel) tensor, got shape {tuple(tensor.shape)}")
    if tensor.shape[1] == 1:
        tensor = tensor.expand(-1, 3, -1, -1)
    _check_unit_range(tensor.detach(), "tensor")
    return tensor.detach().float().contiguous()


#: Values outside this range mean a float picture is not on the [0, 1] scale (most often it is on 0-255); within it,
#: values a little outside [0, 1] (an unclamped filter's overshoot) are clamped where the picture is written.
FLOAT_PICTURE_RANGE = (-1.0, 2.0)


def _check_unit_range(values: np.ndarray | torch.Tensor, what: str) -> None:
    """Refuse a float picture that is plainly not on the [0, 1] scale, instead of saturating it silently."""
    empty = values.size == 0 if isinstance(values, np.ndarray) else values.numel() == 0
    if empty:
        return
    low, high = float(values.min()), float(values.max())
    if low < FLOAT_PICTURE_RANGE[0] or high > FLOAT_PICTURE_RANGE[1]:
        raise VideostyleError(
            f"a float {what} is read as a picture in [0, 1], but this one holds values from {low:g} to {high:g}: divide 0-255 values by 255, or give uint8"
        )


#: Values :func:`to_uint8` converts at a time (16 MiB of float32).
BAND_VALUES = 2**22


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """``1 x 3 x H x W`` (or ``3 x H x W``) float in [0, 1] -> ``H x W x 3`` uint8, clamped and rounded."""
    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"to_uint8 takes one image, got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    channels, height, width = tensor.shape
    array = np.empty((height, width, channels), np.uint8)
    rows = max(1, BAND_VALUES // (channels * width))
    for top in range(0, height, rows):  # in bands: no float copy of a big picture (8192x4608: 453 MB each)
        band = tensor[:, top : top + rows].detach().float().clamp(0, 1).mul_(255).round_().to(torch.uint8)
        array[top : top + rows] = band.permute(1, 2, 0).cpu().numpy()
    return array


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """``1 x 3 x H x W`` float in [0, 1] -> Pillow RGB image."""
    return Image.fromarray(to_uint8(tensor), "RGB")


def save_image(tensor: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write a ``1 x 3 x H x W`` image atomically; the format follows the file extension."""
    return save_picture(to_pil(tensor), path)


def _check_picture_format(path: Path, what: str) -> None:
    if path.suffix.lower() not in Image.registered_extensions():
        raise VideostyleError(f"unknown image format for {what} {path} (use .png, .jpg, ...)")


def check_picture_destination(path: str | os.PathLike, what: str = "output") -> Path:
    """Check, before any work, that a picture can be written to ``path``: an existing writable folder and a format
    Pillow writes (``what`` names the file in the message)."""
    path = check_writable_destination(path)
    _check_picture_format(path, what)
    return path


def save_picture(image: Image.Image, path: str | os.PathLike) -> Path:
    """Write a Pillow image atomically; the format follows the file extension."""
    path = Path(path)
    _check_picture_format(path, "output")
    with atomic_path(path) as tmp:
        try:
            image.save(tmp, format=Image.registered_extensions()[path.suffix.lower()], **_save_options(path))
        except OSError as error:
            raise VideostyleError(f"cannot write {path}: {error}") from None
    return path


def _save_options(path: Path) -> dict:
    return {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else {}


def save_frame_png(array: np.ndarray, path: Path) -> None:
    """An ``H x W x 3`` uint8 frame of a run folder, written atomically."""
    with atomic_path(path) as tmp:  # fast compression: the frames are temporary and every method waits on them
        Image.fromarray(array).save(tmp, format="PNG", compress_level=1)


def load_frame_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def picture_size(image: torch.Tensor) -> tuple[int, int]:
    """``(height, width)`` of a ``... x H x W`` tensor."""
    return image.shape[-2], image.shape[-1]


def size_for_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) scaled so that max(H, W) == long_side, keeping the aspect ratio (each side >= 1)."""
    if long_side <= 0:
        raise VideostyleError(f"size must be positive, got {long_side}")
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize ``B x C x H x W`` to ``size = (H', W')``: antialiased bilinear (area-like when shrinking)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)


def resize_long_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """Resize ``B x C x H x W`` so that its longer side is ``long_side`` pixels."""
    return resize(image, size_for_long_side(image.shape[-2], image.shape[-1], long_side))


def pad_to_multiple(images: torch.Tensor, multiple: int, mode: str | None = None) -> torch.Tensor:
    """Pad ``B x C x H x W`` at the bottom and right so H and W are multiples of ``multiple``.

    Reflection by default (replication where the image is too small to reflect); crop the
    result back with ``[..., :H, :W]``. Networks with strided layers use this so that any size works.
    """
    height, width = images.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if not (pad_h or pad_w):
        return images
    if mode is None:
        mode = "reflect" if min(height, width) > max(pad_h, pad_w) else "replicate"
    return F.pad(images, (0, pad_w, 0, pad_h), mode=mode)
