"""Style swap in one pass with the bundled inverse network: seconds per 640x360 frame (the target: under 1 s).

A 640x360 frame (the bundled Wesnoth landscape resized), Starry Night at several style sizes (the long side its patches are
taken at; more patches, slower matching), `StyleSwapStylizer` warm, best of three. Parts: the encoder to
relu3_1, the patch matching and rebuild, the decoder. Baseline in the same run: the encoder alone.

    python benchmarks/style_swap_speed.py
"""

from __future__ import annotations

import time

import torch

from videostyle.features import load_encoder
from videostyle.features.patches import style_swap_patches
from videostyle.io.image import load_image, to_tensor
from videostyle.methods.feedforward import FeedForwardOptions
from videostyle.methods.style_swap import StyleSwapStylizer
from videostyle.models import load_model
from videostyle.options import SWAP_LAYER
from videostyle.serve.jobs import samples_folder


def best_of_three(work) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    encoder = load_encoder()
    decoder, _ = load_model("swap_decoder", "swap_decoder")
    photo = to_tensor(load_image(samples_folder() / "wesnoth_bridge.jpg"))  # 512x382: resized to 640x360 (slightly stretched)
    frame = torch.nn.functional.interpolate(photo, size=(360, 640), mode="bilinear", align_corners=False)
    style = to_tensor(load_image(samples_folder() / "starry_night.jpg"))
    with torch.inference_mode():
        encode = best_of_three(lambda: encoder(frame, [SWAP_LAYER]))
        features = encoder(frame, [SWAP_LAYER])[SWAP_LAYER]
    print(f"one 640x360 frame; {torch.get_num_threads()} threads; encoder to relu3_1 alone: {encode:.3f} s\n")
    print("| style size | style patches | whole frame, s | matching and rebuild, s | decoder (float32), s |")
    print("|---|---:|---:|---:|---:|")
    for style_size in (256, 384, 512):
        stylizer = StyleSwapStylizer(encoder, decoder, [style], FeedForwardOptions(), style_size=style_size)
        stylizer.stylize_tensor(frame)
        whole = best_of_three(lambda stylizer=stylizer: stylizer.stylize_tensor(frame))
        with torch.inference_mode():
            swap = best_of_three(lambda stylizer=stylizer: style_swap_patches(features, stylizer.patches, precision="auto"))
            swapped = style_swap_patches(features, stylizer.patches, precision="auto")
            decode = best_of_three(lambda swapped=swapped: decoder(swapped))
        print(f"| {style_size} | {stylizer.patches.shape[0]} | {whole:.3f} | {swap:.3f} | {decode:.3f} |")


if __name__ == "__main__":
    main()
