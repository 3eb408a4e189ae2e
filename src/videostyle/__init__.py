"""videostyle: artistic style transfer for images and flicker-free video.

Tensor convention everywhere: float32 RGB in [0, 1], shape ``B x 3 x H x W``. A method and its
options travel as one :class:`MethodSpec`; :func:`stylize` (an image) and :func:`stylize_video`
(a clip) run any method; :func:`stylize_audio` restyles a sound with another's (extra ``audio``);
:func:`stylize_batch` runs many pictures into one folder.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .errors import VideostyleError

if TYPE_CHECKING:
    from .api import stylize, stylize_image, stylize_image_with_model
    from .audio.api import AudioRestyle, stylize_audio
    from .batch import plan_batch, stylize_batch
    from .devices import resolve_device
    from .io.video import ClipWindow
    from .pipeline import stylize_video
    from .results import ImageResult
    from .spec import MethodSpec

#: Each public name and the module it lives in, imported on first use: ``import videostyle`` (and the command's
#: start-up, :mod:`videostyle.entry`) does not import PyTorch until something needs it.
_EXPORTS = {
    "ImageResult": "results",
    "ClipWindow": "io.video",
    "resolve_device": "devices",
    "stylize": "api",
    "stylize_image": "api",
    "stylize_image_with_model": "api",
    "AudioRestyle": "audio.api",
    "stylize_audio": "audio.api",
    "plan_batch": "batch",
    "stylize_batch": "batch",
    "stylize_video": "pipeline",
    "MethodSpec": "spec",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'videostyle' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"
__all__ = [
    "AudioRestyle",
    "ClipWindow",
    "ImageResult",
    "MethodSpec",
    "VideostyleError",
    "__version__",
    "plan_batch",
    "resolve_device",
    "stylize",
    "stylize_audio",
    "stylize_batch",
    "stylize_image",
    "stylize_image_with_model",
    "stylize_video",
]
