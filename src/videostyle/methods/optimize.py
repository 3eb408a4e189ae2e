"""The optimisation loop shared by image (Gatys) and video (Ruder) style transfer.

``optimize_image`` minimises ``total(objective(x))`` over the pixels of ``x`` with L-BFGS
(one function evaluation per iteration, no line search, as in jcjohnson/neural-style)
or Adam, reports every iteration's named terms to a callback, and stops early when the
relative decrease of the loss stays below a tolerance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from ..errors import VideostyleError
from ..losses import total

OPTIMIZERS = ("lbfgs", "adam")
#: Default Adam step on [0, 1] pixels (about 5 grey levels).
ADAM_LEARNING_RATE = 0.02


@dataclass
class Step:
    """What a callback sees after each iteration."""

    iteration: int  # 1-based within this optimisation
    terms: dict[str, float]  # weighted named terms at the iterate just evaluated
    loss: float
    variable: torch.Tensor  # the current optimisation variable (do not modify)


@dataclass
class OptimizationResult:
    variable: torch.Tensor  # detached
    iterations: int
    terms: dict[str, float]
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    diverged: bool = False


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
        iterations: maximum number of iterations (each one objective evaluation).
        optimizer: ``"lbfgs"`` (default ``learning_rate`` 1) or ``"adam"`` (default 0.02).
        tolerance: stop when ``(L_prev - L) / L_prev < tolerance`` for ``patience``
            consecutive iterations; 0 disables early stopping.
    Returns the final variable (the last finite iterate if the loss ever became NaN/inf).
    """
    if optimizer not in OPTIMIZERS:
        raise VideostyleError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    if iterations < 0:
        raise VideostyleError(f"iterations must be >= 0, got {iterations}")
    variable = init.detach().clone().requires_grad_(True)
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [variable], lr=learning_rate or 1.0, max_iter=1, history_size=100, tolerance_grad=0.0, tolerance_change=0.0
        )
    else:
        opt = torch.optim.Adam([variable], lr=learning_rate or ADAM_LEARNING_RATE)
    evaluated: dict[str, torch.Tensor] = {}

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        terms = objective(variable)
        loss = total(terms)
        loss.backward()
        evaluated.clear()
        evaluated.update({name: value.detach() for name, value in terms.items()})
        return loss.detach()

    start = time.perf_counter()
    history: list[float] = []
    last_good = variable.detach().clone()  # the latest iterate whose loss was finite
    terms_out: dict[str, float] = {}
    calm, stopped_early, diverged, done = 0, False, False, 0
    for iteration in range(1, iterations + 1):
        before = variable.detach().clone()
        loss = float(opt.step(closure))
        if not math.isfinite(loss):  # the iterate `before` is bad; keep the one evaluated last time
            diverged = True
            break
        done = iteration
        terms_out = {name: float(value) for name, value in evaluated.items()}
        if history and tolerance > 0:
            relative = (history[-1] - loss) / max(abs(history[-1]), 1e-12)
            calm = calm + 1 if 0 <= relative < tolerance else 0
        history.append(loss)
        last_good = before  # the loss just logged belongs to the iterate before the step
        if callback is not None:
            callback(Step(iteration, terms_out, loss, variable.detach()))
        if tolerance > 0 and calm >= patience:
            stopped_early = True
            break
    final = last_good if diverged else variable.detach()
    return OptimizationResult(final.clone(), done, terms_out, history, time.perf_counter() - start, stopped_early, diverged)
