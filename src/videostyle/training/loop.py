"""The training loop every feed-forward method shares: steps, logging, checkpoints, resume.

A run folder (``.<model file>.train`` beside the output unless given) holds
``settings.json`` (what the run was started with), ``checkpoint.safetensors`` (the network,
the optimizer's state and the step, written atomically every ``checkpoint_every`` steps)
and ``log.csv`` (one row of loss terms per step). Started again with the same settings, a
run continues from its last checkpoint and, because every batch is drawn from a generator
seeded by the step, ends with the same weights as an uninterrupted run. Started with other
settings, it refuses unless told to restart.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
from safetensors.torch import save_file
from torch import nn

from ..checks import check_positive, check_range
from ..errors import VideostyleError
from ..features.vgg import VGGEncoder
from ..io.atomic import atomic_path, check_not_an_input, check_writable_destination
from ..losses.perceptual import total
from ..models.files import read_model, resolve_model_path, save_model
from ..runs import content_digest, default_run_folder, open_run_folder, run_lock

CHECKPOINT = "checkpoint.safetensors"
LOG = "log.csv"
SETTINGS = "settings.json"


@dataclass
class TrainingOptions:
    """What every training run shares (each method's options class adds its own and may change the defaults).

    ``size``: side of the square training crops; ``batch_size``: images (or frame pairs) per
    step; ``init_model``: a trained model (bundled name or file) to fine-tune instead of random weights.
    """

    size: int = 128
    batch_size: int = 4
    steps: int = 2000
    learning_rate: float = 1e-3
    style_weight: float = 3.0
    seed: int = 0
    checkpoint_every: int = 100
    init_model: str | None = None

    def check_shared(self, min_size: int = 16, positive: tuple[str, ...] = (), shares: tuple[str, ...] = (), weights: tuple[str, ...] = ()) -> None:
        """The shared checks, plus the method's own: ``positive`` integers, ``shares`` in [0, 1], non-negative ``weights``."""
        for name in ("size", "batch_size", "steps", "checkpoint_every", *positive):
            check_positive(name, getattr(self, name))
        if self.size < min_size:
            raise VideostyleError(f"size must be at least {min_size} pixels, got {self.size}", parameter="size")
        check_positive("learning_rate", self.learning_rate)
        for name in shares:
            check_range(name, getattr(self, name), 0, 1)
        for name in ("style_weight", *weights):
            check_positive(name, getattr(self, name), allow_zero=True)


@dataclass
class StepReport:
    step: int
    steps: int
    loss: float
    terms: dict[str, float]
    seconds: float


@dataclass
class RunControl:
    """How a training run is carried out, as opposed to what it learns (the options classes).

    ``device``: where to train; ``encoder``: an already loaded VGG to share (else loaded on
    ``device``); ``run_folder``: the checkpoint folder (default ``.OUTPUT.train`` beside the
    output); ``restart``: discard a run folder left with other settings; ``keep_run``: keep the
    folder after success; ``on_step``: called after every step (progress bars, tests);
    ``time_limit``: seconds of training, in all (a resumed run counts its earlier calls' time), after
    which the run ends early, at a checkpoint; ``run_for``: seconds this call trains before it ends
    the same way (a run in several calls of bounded length, each continuing the last).
    """

    device: torch.device | str = "cpu"
    encoder: VGGEncoder | None = None
    run_folder: str | os.PathLike | None = None
    restart: bool = False
    keep_run: bool = False
    on_step: Callable[[StepReport], None] | None = None
    time_limit: float | None = None
    run_for: float | None = None

    def open(self, output: Path, settings: dict) -> Path:
        """Open (create, or check: see :func:`videostyle.runs.open_run_folder`) the run folder for ``output``; return it."""
        run = Path(self.run_folder) if self.run_folder else default_run_folder(output, "train")
        open_run_folder(run, settings, SETTINGS, self.restart, "restart=True", comparable=_without_steps)
        return run

    def load_encoder(self, device: torch.device) -> VGGEncoder:
        from ..features import load_encoder

        return self.encoder if self.encoder is not None else load_encoder(device=device)


@dataclass
class TrainSummary:
    output: Path
    steps: int
    resumed_from: int
    seconds: float
    final_terms: dict[str, float]
    log_path: Path
    plot_path: Path


def check_model_output(output, inputs=(), init_model: str | None = None) -> Path:
    """The model file to write: a ``.safetensors`` path in a writable folder that is none of the ``inputs``
    (style and data paths) nor the ``init_model`` fine-tuned from."""
    output = check_writable_destination(output)
    if output.suffix != ".safetensors":
        raise VideostyleError(f"the model file must end in .safetensors: {output}", parameter="output")
    check_not_an_input(output, [*inputs, None if init_model is None else resolve_model_path(init_model)])
    return output


#: Any network a trainer fine-tunes.
Network = TypeVar("Network", bound=nn.Module)


def warm_start(network: Network, init_model: str | None, kind: str, config: dict) -> Network:
    """``network`` with the weights of the model file ``init_model`` (a bundled name or a path) when
    given, to fine-tune a trained model; the file must hold a ``kind`` network of the same
    architecture: ``config`` equal but for the labels (``LABELS`` of the config class, such as
    the style names, which a fine-tuning to another style changes)."""
    if init_model is None:
        return network
    from ..models import load_model

    trained, info = load_model(init_model, kind)  # checks the kind and the weights; fills in config defaults
    labels = getattr(network.config, "LABELS", ())
    differing = sorted(name for name in set(config) | set(info["config"]) if name not in labels and config.get(name) != info["config"].get(name))
    if differing:
        name = differing[0]
        raise VideostyleError(
            f"init_model {resolve_model_path(init_model)} has {name} = {info['config'].get(name)!r}; this training makes {config.get(name)!r}"
        )
    network.load_state_dict(trained.state_dict())
    return network


def file_digest(name_or_path: str | None) -> str | None:
    """A short digest of a model file's bytes (None for None): a run resumes only from the same ``init_model``."""
    if name_or_path is None:
        return None
    return content_digest([resolve_model_path(name_or_path).read_bytes()], 16)


def log_paths(output: Path) -> tuple[Path, Path]:
    """Where a trained model's log and loss plot go: ``NAME.log.csv`` and ``NAME.loss.png`` beside it."""
    return output.with_name(f"{output.stem}.log.csv"), output.with_name(f"{output.stem}.loss.png")


def finish_training(
    run: Path,
    output: Path,
    network: nn.Module,
    kind: str,
    config: dict,
    rows: list[dict[str, float]],
    resumed: int,
    training: dict,
    title: str,
    keep_run: bool,
) -> TrainSummary:
    """Write the model (with ``training`` plus the final loss and time in its metadata), its log and
    loss plot; remove the run folder unless ``keep_run``."""
    training = {**training, "final_loss": rows[-1]["loss"], "seconds": rows[-1]["seconds"]}
    save_model(output, network.state_dict(), kind, config, {"training": training})
    log_path, plot_path = log_paths(output)
    write_log(log_path, rows)
    plot_log(rows, plot_path, title)
    if not keep_run:
        shutil.rmtree(run, ignore_errors=True)
    final = {name: value for name, value in rows[-1].items() if name not in ("step", "seconds")}
    return TrainSummary(output, int(rows[-1]["step"]), resumed, rows[-1]["seconds"], final, log_path, plot_path)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], param_groups: list) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
    tensors = {f"model.{name}": value for name, value in model.state_dict().items()}
    optimizer_tensors, optimizer_info = _optimizer_tensors(optimizer)
    tensors.update(optimizer_tensors)
    metadata = {"videostyle": json.dumps({"format": 1, "kind": "checkpoint", "config": {}, "step": step, "optimizer": optimizer_info})}
    with atomic_path(path) as tmp:
        save_file({name: value.detach().cpu().contiguous() for name, value in tensors.items()}, str(tmp), metadata=metadata)


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Restore ``model`` and ``optimizer`` from a checkpoint; return its step. A damaged one is refused, never loaded."""
    try:
        tensors, info = read_model(path)
    except VideostyleError as error:
        reason = str(error).removeprefix(f"cannot read model {path}: ")
        raise VideostyleError(f"the training checkpoint {path} is damaged: {reason}; remove {path.parent} to train from the start") from None
    if info.get("kind") != "checkpoint":
        raise VideostyleError(f"not a training checkpoint: {path}; remove {path.parent} to train from the start")
    model_state = {name.removeprefix("model."): value for name, value in tensors.items() if name.startswith("model.")}
    try:
        model.load_state_dict(model_state)
        _restore_optimizer(optimizer, {n: v for n, v in tensors.items() if n.startswith("optimizer.")}, info["optimizer"]["param_groups"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise VideostyleError(f"checkpoint {path} does not match this network: {str(error).splitlines()[0]}") from None
    return int(info["step"])


def _without_steps(settings: dict) -> dict:
    """What must match for a run to resume: everything but the step count (a run may be extended or ended early)."""
    return {**settings, "options": {name: value for name, value in settings.get("options", {}).items() if name != "steps"}}


def _read_log(path: Path, up_to_step: int) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]
    return [row for row in rows if row["step"] <= up_to_step]


def write_log(path: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        return
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def train(
    run: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step_terms: Callable[[int], Mapping[str, torch.Tensor]],
    steps: int,
    checkpoint_every: int,
    control: RunControl,
    max_grad_norm: float | None = None,
) -> tuple[list[dict[str, float]], int]:
    """Run steps ``[checkpoint step, steps)`` of ``step_terms(step) -> {name: weighted loss}``, or fewer:
    the run ends at a checkpoint at the first step past ``control.time_limit`` (training time in all) or
    ``control.run_for`` (this call's). ``control.on_step`` is called after every step.
    ``max_grad_norm``: the gradient's norm is clipped to it before each step (none: not clipped).

    Returns the whole log (one dict per step: ``step``, ``loss``, each term, ``seconds``)
    and the step this call resumed from. ``run`` must have been opened with
    :func:`open_run_folder`.
    """
    with run_lock(run):  # one process trains in a run folder at a time
        return _train_steps(run, model, optimizer, step_terms, steps, checkpoint_every, control, max_grad_norm)


def _train_steps(run, model, optimizer, step_terms, steps, checkpoint_every, control, max_grad_norm) -> tuple[list[dict[str, float]], int]:
    checkpoint, log_path = run / CHECKPOINT, run / LOG
    start = load_checkpoint(checkpoint, model, optimizer) if checkpoint.is_file() else 0
    rows = _read_log(log_path, start)
    elapsed = rows[-1]["seconds"] if rows else 0.0
    model.train()
    called = time.perf_counter()
    began = called - elapsed
    for step in range(start, steps):
        optimizer.zero_grad(set_to_none=True)
        terms = step_terms(step)
        loss = total(terms)
        loss.backward()
        # one copy to the host per step (the loss and its terms together): each .item() would wait for the device
        loss_value, *term_values = torch.stack([loss.detach().float(), *(value.detach().float() for value in terms.values())]).tolist()
        if not math.isfinite(loss_value):
            raise VideostyleError(
                f"training diverged at step {step + 1} (loss {loss_value}); lower learning_rate or the loss weights", parameter="learning_rate"
            )
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        values = dict(zip(terms, term_values))
        now = time.perf_counter()
        row = {"step": step + 1, "loss": loss_value, **values, "seconds": now - began}
        rows.append(row)
        if control.on_step is not None:
            control.on_step(StepReport(step + 1, steps, row["loss"], values, row["seconds"]))
        out_of_time = (control.time_limit is not None and row["seconds"] >= control.time_limit) or (
            control.run_for is not None and now - called >= control.run_for
        )
        if (step + 1) % checkpoint_every == 0 or step + 1 == steps or out_of_time:
            save_checkpoint(checkpoint, model, optimizer, step + 1)
            write_log(log_path, rows)
        if out_of_time:
            break
    model.eval()
    return rows, start


def plot_log(rows: list[dict[str, float]], path: Path, title: str, smooth: int = 25) -> None:
    """Loss curves (total and each term, moving average over ``smooth`` steps) on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    steps = np.array([row["step"] for row in rows])
    names = [name for name in rows[0] if name not in ("step", "seconds")]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for name in names:
        values = np.array([row[name] for row in rows])
        width = max(1, min(smooth, len(values)))
        averaged = np.convolve(values, np.ones(width) / width, mode="valid")
        axis.plot(steps[width - 1 :], averaged, label=name, linewidth=2 if name == "loss" else 1)
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_ylabel(f"weighted loss (moving average of {smooth})")
    axis.set_title(title)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
