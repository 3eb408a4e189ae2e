"""Training the networks: data, the shared loop with checkpoints and resume, and one trainer per method.

``trainer(method)`` gives a method's options class, train function and fixed option values; the
``train`` command and any other caller pick a trainer through it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import VideostyleError

#: The training methods, named as the ``--method`` of ``videostyle train`` and the spec's methods.
TRAIN_METHODS = ("feedforward", "reconet", "arbitrary-video", "adain", "reptile", "swap-decoder", "distill", "cartoongan")


def trainer(method: str) -> tuple[type, Callable, dict]:
    """``(options class, train function, fixed option values)`` of a training method (imported lazily)."""
    if method == "feedforward":
        from .feedforward import TrainOptions, train_transformer

        return TrainOptions, train_transformer, {}
    if method == "adain":
        from .adain import AdaINTrainOptions, train_adain_decoder

        return AdaINTrainOptions, train_adain_decoder, {}
    if method == "swap-decoder":
        from .inverse import InverseTrainOptions, train_swap_decoder

        def train_photos_only(styles, data, output, options, control=None):
            if styles:
                raise VideostyleError("the style-swap inverse network trains on content photos only: give no style", parameter="styles")
            return train_swap_decoder(data, output, options, control)

        return InverseTrainOptions, train_photos_only, {}
    if method == "cartoongan":
        from .cartoon import CartoonTrainOptions, train_cartoongan

        return CartoonTrainOptions, train_cartoongan, {}
    if method == "distill":
        from .distill import DistillOptions, train_student

        return DistillOptions, train_student, {}
    if method == "reptile":
        from .meta import MetaTrainOptions, train_meta_init

        return MetaTrainOptions, train_meta_init, {}
    if method in ("reconet", "arbitrary-video"):
        from .video import VideoTrainOptions, train_video_network

        return VideoTrainOptions, train_video_network, {"mode": "reconet" if method == "reconet" else "arbitrary"}
    raise VideostyleError(f"unknown training method {method!r}; choose one of {', '.join(TRAIN_METHODS)}", parameter="method")
