"""The optimisation loop shared by image (Gatys) and video (Ruder) style transfer.

``optimize_image`` minimises ``total(objective(x))`` over the pixels of ``x`` with L-BFGS
(strong-Wolfe line search: without one, the second L-BFGS step on a freshly started
problem can overshoot by orders of magnitude) or Adam. An *iteration* is one evaluation
of the objective (one encoder forward and backward), the unit of cost, so that
``iterations=500`` costs the same whichever optimiser runs. Every evaluation's named
terms go to a callback; the result is the best iterate evaluated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from ..errors import VideostyleError
from ..losses import total
from ..options import OPTIMIZERS

#: L-BFGS memory. Each pair holds two copies of the image (100 pairs: 1.6 GiB at 1024 x 1024);
#: 20 pairs reached the same loss as 100 after 40 evaluations at 256 px (1.399e5 vs 1.396e5,
#: benchmarks/gatys_breakdown.py) at the same speed.
LBFGS_HISTORY = 20
#: Bytes the L-BFGS history may hold: large pictures keep fewer pairs (a 4096 x 2304 picture: 4), never below 3.
LBFGS_HISTORY_BYTES = 2**30
#: Default Adam step on [0, 1] pixels (about 5 grey levels).
ADAM_LEARNING_RATE = 0.02


@dataclass
class Step:
    """What a callback sees after each evaluation of the objective."""

    iteration: int  # 1-based within this optimisation
    terms: dict[str, float]  # weighted named terms at the evaluated point
    loss: float
    variable: torch.Tensor  # the evaluated point (do not modify)


@dataclass
class OptimizationResult:
    variable: torch.Tensor  # the best evaluated point, detached
    iterations: int  # evaluations made
    terms: dict[str, float]  # the terms at that point
    history: list[float] = field(default_factory=list)  # loss of every evaluation
    seconds: float = 0.0
    stopped_early: bool = False
    diverged: bool = False  # a non-finite loss was met; the best finite point is returned


@dataclass
class _Search:
    """What the closure keeps between evaluations: the best one (its loss, picture and terms), the evaluations in a
    row without enough improvement (``calm``), and whether the search stopped early or diverged."""

    variable: torch.Tensor
    loss: float = math.inf
    terms: dict[str, float] = field(default_factory=dict)
    calm: int = 0
    stopped_early: bool = False
    diverged: bool = False


class _Stop(Exception):
    """Raised inside the closure to end L-BFGS between evaluations."""


def lbfgs_history(variable: torch.Tensor) -> int:
    """Pairs of L-BFGS history for this variable: :data:`LBFGS_HISTORY`, fewer where they would pass
    :data:`LBFGS_HISTORY_BYTES` (each pair is two copies of the variable).

    >>> lbfgs_history(torch.zeros(1, 3, 512, 512)), lbfgs_history(torch.zeros(1, 3, 2304, 4096))
    (20, 4)
    """
    pair = 2 * variable.numel() * variable.element_size()
    return max(3, min(LBFGS_HISTORY, LBFGS_HISTORY_BYTES // pair))


def optimize_image(
    init: torch.Tensor,
    objective: Callable[[torch.Tensor], Mapping[str, torch.Tensor]],
    iterations: int,
    optimizer: str = "lbfgs",
    learning_rate: float | None = None,
    tolerance: float = 0.0,
    patience: int = 5,
    callback: Callable[[Step], None] | None = None,
) -> OptimizationResult:
    """Minimise the sum of ``objective(x)``'s terms, starting from ``init`` (not modified).

    Args:
        iterations: the number of objective evaluations allowed.
        optimizer: ``"lbfgs"`` (default ``learning_rate`` 1) or ``"adam"`` (default 0.02).
        tolerance: stop when, for ``patience`` evaluations in a row, none lowered the best
            loss by more than ``tolerance`` relative; 0 disables early stopping.
    """
    if optimizer not in OPTIMIZERS:
        raise VideostyleError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    if iterations < 0:
        raise VideostyleError(f"iterations must be >= 0, got {iterations}")
    variable = init.detach().clone().requires_grad_(True)
    opt: torch.optim.Optimizer
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [variable],
            lr=learning_rate or 1.0,
            max_iter=iterations or 1,
            max_eval=iterations or 1,
            history_size=lbfgs_history(variable),
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
    else:
        opt = torch.optim.Adam([variable], lr=learning_rate or ADAM_LEARNING_RATE)

    start = time.perf_counter()
    history: list[float] = []
    best = _Search(variable.detach().clone())

    def closure() -> torch.Tensor:
        if len(history) >= iterations or best.stopped_early or best.diverged:
            raise _Stop
        opt.zero_grad(set_to_none=True)
        terms = objective(variable)
        loss_tensor = total(terms)
        loss_tensor.backward()
        if variable.grad is not None and not variable.grad.is_contiguous():
            variable.grad = variable.grad.contiguous()  # L-BFGS views it flat (a 1 x 1 picture's gradient is an expanded one)
        # the loss and its terms read back together, after the backward is queued: one wait for the device per evaluation
        loss, *values = torch.stack([loss_tensor.detach(), *(value.detach() for value in terms.values())]).tolist()
        history.append(loss)
        if not math.isfinite(loss):
            best.diverged = True
            raise _Stop
        terms_now = dict(zip(terms, values))
        improvement = (best.loss - loss) / max(abs(best.loss), 1e-12) if math.isfinite(best.loss) else math.inf
        best.calm = best.calm + 1 if improvement <= tolerance else 0
        if loss < best.loss:
            best.loss, best.variable, best.terms = loss, variable.detach().clone(), terms_now
        if callback is not None:
            callback(Step(len(history), terms_now, loss, variable.detach()))
        if tolerance > 0 and best.calm >= patience:
            best.stopped_early = True
        return loss_tensor.detach()

    try:
        while len(history) < iterations and not (best.stopped_early or best.diverged):
            opt.step(closure)
    except _Stop:
        pass
    if not math.isfinite(best.loss):  # nothing finite was ever evaluated
        best.variable = init.detach().clone()
    return OptimizationResult(best.variable, len(history), best.terms, history, time.perf_counter() - start, best.stopped_early, best.diverged)
