"""videostyle: artistic style transfer for images and flicker-free video.

Tensor convention everywhere: float32 RGB in [0, 1], shape ``B x 3 x H x W``.
"""

from .api import ImageResult, resolve_device, stylize_image, stylize_image_with_model
from .errors import VideostyleError

__version__ = "0.1.0"
__all__ = ["ImageResult", "VideostyleError", "__version__", "resolve_device", "stylize_image", "stylize_image_with_model"]
