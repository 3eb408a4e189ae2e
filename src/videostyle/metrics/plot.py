"""A picture of where a clip flickers: per-frame warping error of the output and of the input."""

from __future__ import annotations

import os

from ..io.atomic import atomic_path
from .evaluate import ClipReport


def plot_report(report: ClipReport, path: str | os.PathLike, title: str = "") -> None:
    """Write a PNG (atomically): short-term error per frame on top, long-term below, input as the floor."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    first = list(range(1, 1 + len(report.short_term)))
    top.plot(first, report.short_term, label="stylized", color="tab:red")
    top.plot(first, report.short_term_input, label="input (floor)", color="tab:gray", linestyle="--")
    top.set_ylabel("short-term error")
    top.legend(loc="upper right")
    later = list(range(report.long_gap, report.long_gap + len(report.long_term)))
    bottom.plot(later, report.long_term, color="tab:red")
    bottom.plot(later, report.long_term_input, color="tab:gray", linestyle="--")
    bottom.set_ylabel(f"long-term error (gap {report.long_gap})")
    bottom.set_xlabel("frame")
    figure.suptitle(title or "warping error per frame (masked MSE, [0, 1] RGB)")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
