"""videostyle: artistic style transfer for images and flicker-free video.

Tensor convention everywhere: float32 RGB in [0, 1], shape ``B x 3 x H x W``. A method and its
options travel as one :class:`MethodSpec`; :func:`stylize` (an image) and :func:`stylize_video`
(a clip) run any method; :func:`stylize_audio` restyles a sound with another's (extra ``audio``);
:func:`stylize_batch` runs many pictures into one folder.
"""

from .api import ImageResult, resolve_device, stylize, stylize_image, stylize_image_with_model
from .audio.api import AudioRestyle, stylize_audio
from .batch import plan_batch, stylize_batch
from .errors import VideostyleError
from .pipeline import stylize_video
from .spec import MethodSpec

__version__ = "0.1.0"
__all__ = [
    "AudioRestyle",
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
