"""Reading and writing images and streaming video in the one tensor convention; atomic outputs."""

from .atomic import atomic_path, check_writable_destination
from .image import load_image, resize, resize_long_side, save_image, size_for_long_side, to_pil, to_tensor, to_uint8

__all__ = [
    "atomic_path",
    "check_writable_destination",
    "load_image",
    "resize",
    "resize_long_side",
    "save_image",
    "size_for_long_side",
    "to_pil",
    "to_tensor",
    "to_uint8",
]
