"""videostyle: artistic style transfer for images and flicker-free video.

Tensor convention everywhere: float32 RGB in [0, 1], shape ``B x 3 x H x W``. A method and its
options travel as one :class:`MethodSpec`; :func:`stylize` (an image) and :func:`stylize_video`
(a clip) run any method.
"""

from .api import ImageResult, resolve_device, stylize, stylize_image, stylize_image_with_model
from .errors import VideostyleError
from .pipeline import stylize_video
from .spec import MethodSpec

__version__ = "0.1.0"
__all__ = [
    "ImageResult",
    "MethodSpec",
    "VideostyleError",
    "__version__",
    "resolve_device",
    "stylize",
    "stylize_image",
    "stylize_image_with_model",
    "stylize_video",
]
