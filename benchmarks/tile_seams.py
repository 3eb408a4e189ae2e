"""How far a one-pass network's tiles are from one pass over the whole picture at their seams, for each way of
blending them: the feathering ramp's power and the overlap of neighbouring windows.

Every tiled run here uses the whole picture's own normalisation statistics, so the difference from one pass
comes only from the tiles' borders: the pixels near a window's inner edge saw the window's padding, not the
picture. The picture is the bundled leuvenA photo upscaled (bicubic) to 3000x2000, its top-left 1500x1000;
tiles of 512 px in PyTorch. Differences are in grey levels (0-255): the mean over the picture, the 99.9th
percentile and the largest. "pixels" is the windows' pixels over the picture's: the cost of the overlap.

``--sheet PATH`` writes, for the first model, a 192 px crop around a crossing of four windows (enlarged twice): one
pass, the linear ramp over 64 px, the fourth power over the network's own overlap, and each one's difference from
one pass amplified eight times.

    python benchmarks/tile_seams.py [--models starry_night starry_night_realtime starry_night_johnson] [--powers 1 4] [--overlaps 32 48 64] [--sheet docs/images/tile_seams.jpg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from videostyle.io.image import to_tensor, to_uint8
from videostyle.io.sheet import save_labelled_grid
from videostyle.methods.feedforward import load_stylizer, tile_overlap
from videostyle.tiles import FEATHER_POWER, blend_windows, overlapping_tiles

PHOTO = Path(__file__).resolve().parents[1] / "src" / "videostyle" / "data" / "content" / "leuvenA.jpg"
TILE = 512
CROP = 192


def sheet(path: str, one_pass: torch.Tensor, linear: torch.Tensor, steep: torch.Tensor, crossing: tuple[int, int], own: int) -> None:
    """The crop around ``crossing`` (row, column) of each picture and of the two differences, enlarged twice."""
    top, left = crossing[0] - CROP // 2, crossing[1] - CROP // 2

    def cell(image: torch.Tensor) -> Image.Image:
        crop = image[..., top : top + CROP, left : left + CROP]
        return Image.fromarray(to_uint8(crop)).resize((2 * CROP, 2 * CROP), Image.Resampling.NEAREST)

    header = ["one pass", "linear ramp, 64 px", f"fourth power, {own} px", "linear: difference x8", "fourth power: difference x8"]
    cells = [cell(one_pass), cell(linear), cell(steep), cell(((linear - one_pass).abs() * 8).clamp(0, 1)), cell(((steep - one_pass).abs() * 8).clamp(0, 1))]
    save_labelled_grid(header, [cells], 2 * CROP, path)


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["starry_night", "starry_night_realtime", "starry_night_johnson"])
    parser.add_argument("--powers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--overlaps", nargs="+", type=int, default=[32, 48, 64], help="besides each network's own (tile_overlap)")
    parser.add_argument("--sheet", default=None, help="write the crop sheet of the first model here")
    args = parser.parse_args()
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((3000, 2000), Image.Resampling.BICUBIC))[:1000, :1500]
    content = to_tensor(photo, "cpu")
    height, width = content.shape[-2:]
    print("| model | architecture | reach (px) | ramp power | overlap (px) | pixels | mean | 99.9th percentile | largest |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    kept: dict[tuple[int, int], torch.Tensor] = {}
    for model in args.models:
        network = load_stylizer(model)[0].network
        one_pass = network(content)
        network.record_statistics(content)
        try:
            for power in args.powers:
                for overlap in sorted({*args.overlaps, tile_overlap(network)}):
                    windows = overlapping_tiles(height, width, TILE, overlap, align=network.stride)
                    tiled = blend_windows(torch.zeros_like(content), windows, overlap, lambda window, network=network: network(window.of(content)), power=power)
                    difference = ((tiled - one_pass).abs() * 255).flatten()
                    percentile = difference.kthvalue(int(difference.numel() * 0.999)).values
                    pixels = sum(window.height * window.width for window in windows) / (height * width)
                    own = " (its own)" if overlap == tile_overlap(network) else ""
                    cells = [model, network.config.arch, str(network.reach()), str(power), f"{overlap}{own}", f"{pixels:.2f}"]
                    cells += [f"{difference.mean():.3f}", f"{percentile:.2f}", f"{difference.max():.1f}"]
                    print("| " + " | ".join(cells) + " |", flush=True)
                    if model == args.models[0] and (power, overlap) in {(1, 64), (FEATHER_POWER, tile_overlap(network))}:
                        kept[power, overlap] = tiled
        finally:
            network.clear_statistics()
        if args.sheet and model == args.models[0] and len(kept) == 2:
            own = tile_overlap(network)
            second = overlapping_tiles(height, width, TILE, own, align=network.stride)
            columns = sorted({window.left for window in second})
            rows = sorted({window.top for window in second})
            crossing = (rows[1] + own // 2, columns[1] + own // 2)
            sheet(args.sheet, one_pass, kept[1, 64], kept[FEATHER_POWER, own], crossing, own)


if __name__ == "__main__":
    main()
