"""Where a Gatys iteration's time goes, at one size: bare encoder pass, the criterion, L-BFGS bookkeeping.

Prints a markdown table of seconds per evaluation (median) for: (1) a bare VGG-16 forward and
backward to relu5_1; (2) the full criterion (content, five Gram style terms, TV) forward and
backward; (3) L-BFGS with line search driving the criterion, for history sizes 20 and 100, with
the best loss reached after the same number of evaluations.

    python benchmarks/gatys_breakdown.py --size 256 --evaluations 40
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from videostyle.features import load_encoder
from videostyle.io import resize_long_side, to_tensor
from videostyle.losses import PerceptualLoss, total


def median_seconds(function, repeats: int = 7) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--evaluations", type=int, default=40)
    args = parser.parse_args()
    encoder = load_encoder()
    content = resize_long_side(to_tensor("assets/grace_hopper.jpg"), args.size)
    style = resize_long_side(to_tensor("assets/starry_night.jpg"), args.size)
    criterion = PerceptualLoss(encoder, style_weight=50, tv_weight=1e4)
    criterion.set_style([style])
    targets = criterion.content_targets(content)
    image = content.clone().requires_grad_(True)

    def bare():
        encoder(image, ["relu5_1"])["relu5_1"].mean().backward()
        image.grad = None

    def full():
        total(criterion(image, targets)).backward()
        image.grad = None

    bare_seconds = median_seconds(bare)
    print(f"{torch.get_num_threads()} threads, {content.shape[-1]}x{content.shape[-2]} px\n")
    print("| work | seconds per evaluation | ratio to bare |\n| --- | --- | --- |")
    print(f"| bare VGG-16 fwd+bwd to relu5_1 | {bare_seconds:.3f} | 1.00 |")
    full_seconds = median_seconds(full)
    print(f"| criterion fwd+bwd | {full_seconds:.3f} | {full_seconds / bare_seconds:.2f} |")
    for history in (20, 100):
        variable = content.clone().requires_grad_(True)
        losses = []
        optimizer = torch.optim.LBFGS(
            [variable],
            lr=1,
            max_iter=args.evaluations,
            max_eval=args.evaluations,
            history_size=history,
            tolerance_grad=0,
            tolerance_change=0,
            line_search_fn="strong_wolfe",
        )

        def closure(optimizer=optimizer, variable=variable, losses=losses):  # this configuration's, called within the iteration
            optimizer.zero_grad()
            loss = total(criterion(variable, targets))
            loss.backward()
            losses.append(loss.item())
            return loss

        start = time.perf_counter()
        optimizer.step(closure)
        seconds = (time.perf_counter() - start) / len(losses)
        print(f"| L-BFGS, history {history}, {len(losses)} evaluations (best loss {min(losses):.4g}) | {seconds:.3f} | {seconds / bare_seconds:.2f} |")


if __name__ == "__main__":
    main()
