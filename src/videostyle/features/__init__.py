"""The perceptual encoder: a frozen VGG with named layers and its weights."""

from ..cache import cache_dir
from .vgg import VGGEncoder, layer_names, layer_stride, load_encoder
from .weights import cached_vgg16_state, load_state_dict_file, read_vgg16_from_onnx

__all__ = ["VGGEncoder", "cache_dir", "cached_vgg16_state", "layer_names", "layer_stride", "load_encoder", "load_state_dict_file", "read_vgg16_from_onnx"]
