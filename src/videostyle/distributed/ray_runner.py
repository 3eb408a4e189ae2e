"""Video and batches on a Ray cluster: frames (or a batch's pictures) spread over actors that each load
the model once, and the optimisation method in chunks.

The driver (:func:`videostyle.pipeline.stylize_video`) still decodes, orders and writes: this module
only replaces its stylizer with :class:`RayFrames`, whose ``stylize_batches`` keeps a bounded number
of batches in flight on the actors and hands the results back in order, so the output file is the
one a local run makes. The method spec travels to the actors as JSON, with the bytes of the files
it names (style images, a mask, a model that is not bundled), so the workers need no shared disk.

Actors are restarted by Ray when they die, and their unfinished batches are run again
(``max_restarts``/``max_task_retries``): a killed worker costs time, not frames.

A batch of pictures (:class:`RayBatch`, used by :func:`videostyle.batch.stylize_batch`) sends each
picture's file bytes to the least busy :class:`BatchActor` and gets the stylized picture back; the
driver writes it and keeps the batch's record, so a batch on Ray resumes as a local one does.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import check_positive
from ..errors import VideostyleError
from ..io.atomic import atomic_folder, atomic_path
from ..methods.frames import FrameStylizer

if TYPE_CHECKING:
    from ..methods.feedforward import OnePassStylizer
    from ..spec import MethodSpec

#: Seconds to wait for a cluster's address to answer before giving up with a one-line error.
CONNECT_TIMEOUT = 5.0
#: Frames two chunks of an optimisation run share (at least). On 48 frames of the bundled clip the warping
#: error of the pairs touching an overlap was 1.04x that of the others with 12 frames cross-faded, 1.61-1.70x
#: with 6, 2.73x with 3 (single run on the same pairs: 0.96-1.14x; docs/scaling.md).
DEFAULT_OVERLAP = 12


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide a run goes. ``address``: None or ``"local"`` starts a Ray instance on this
    machine; ``"auto"`` joins the cluster this machine belongs to; ``HOST:PORT`` or ``ray://HOST:PORT``
    joins that one. ``workers`` actors, each with ``cpus_per_worker`` CPUs (and ``gpus_per_worker``
    GPUs: the actors then run on CUDA); ``batches_in_flight`` bounds the frames on their way (default:
    two batches per worker), so the driver's memory stays flat. The optimisation method cuts the clip
    into chunks of about ``chunk_frames`` frames overlapping by ``chunk_overlap`` (default: the longest
    long-term gap, at least ``DEFAULT_OVERLAP``)."""

    address: str | None = None
    workers: int = 2
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    batches_in_flight: int | None = None
    chunk_frames: int = 36
    chunk_overlap: int | None = None

    @property
    def threads(self) -> int:
        """Compute threads of each worker: its reserved CPUs, at least one."""
        return max(1, int(self.cpus_per_worker))

    def check(self) -> RaySettings:
        check_positive("ray_workers", self.workers)
        check_positive("ray_cpus_per_worker", self.cpus_per_worker)
        check_positive("ray_gpus_per_worker", self.gpus_per_worker, allow_zero=True)
        if self.batches_in_flight is not None:
            check_positive("batches_in_flight", self.batches_in_flight)
        check_positive("chunk_frames", self.chunk_frames)
        if self.chunk_overlap is not None:
            check_positive("chunk_overlap", self.chunk_overlap)
        if int(self.workers) != self.workers:
            raise VideostyleError(f"ray_workers must be a whole number, got {self.workers}", parameter="ray_workers")
        return self

    def frame_stylizer(self, spec, run_folder: Path | None = None) -> FrameStylizer:
        """The video pipeline's stylizer on this cluster: :class:`RayFrames` for a one-pass method, else
        :class:`RayChunkedFrames` (the optimisation method in chunks, kept in ``run_folder``)."""
        return RayFrames(spec, self) if spec.one_pass else RayChunkedFrames(spec, self, run_folder)

    def batch_runner(self, specs: dict) -> RayBatch:
        """A batch's runner on this cluster (:class:`RayBatch`); ``specs``: ``{style set: spec}``."""
        return RayBatch(specs, self)


def use_threads(threads: int) -> None:
    """A worker computes with the CPUs it reserved: an inherited OMP_NUM_THREADS would oversubscribe the machine
    (2.5x slower measured with two one-CPU workers on 2 cores)."""
    import torch

    torch.set_num_threads(threads)


def import_ray():
    """The ``ray`` module, or a one-line error naming the extra."""
    try:
        import ray
    except ImportError:
        raise VideostyleError("running on Ray needs the ray extra: pip install 'videostyle[ray]'", parameter="ray") from None
    return ray


def connect(address: str | None):
    """Join (or start) Ray once per process; an unreachable address fails within ``CONNECT_TIMEOUT`` seconds."""
    ray = import_ray()
    local = address in (None, "local")
    if address is not None and not local and address != "auto":
        _check_reachable(address)
    if ray.is_initialized():
        return ray
    logging.getLogger("ray").setLevel(logging.ERROR)  # its notices are not this command's output
    try:
        ray.init(address=None if local else address, include_dashboard=False, log_to_driver=False, logging_level="ERROR", configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        raise VideostyleError(f"cannot join the Ray cluster at {address}: {_first_line(error)}", parameter="ray") from None
    return ray


def fetch(ray, ref):
    """``ray.get``, with a worker's failure (after Ray's own retries) as a one-line error."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:
        raise VideostyleError(f"a Ray worker failed: {_first_line(error)}", parameter="ray") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _check_reachable(address: str) -> None:
    """``HOST:PORT`` (or ``ray://HOST:PORT``) must accept a TCP connection, or the run stops here."""
    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise VideostyleError(f"a Ray address is HOST:PORT, ray://HOST:PORT, auto or local, got {address!r}", parameter="ray")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise VideostyleError(f"cannot reach a Ray cluster at {address}: {error.strerror or error}", parameter="ray") from None


def portable_spec(spec) -> tuple[dict, dict[str, bytes]]:
    """The spec as JSON plus the bytes of every file it names, keyed by a relative name the worker
    recreates under its own temporary folder (bundled models travel by name)."""
    from ..models.files import bundled_models, resolve_model_path

    files: dict[str, bytes] = {}

    def ship(path: str | None, name: str) -> str | None:
        if path is None:
            return None
        files[name] = Path(path).read_bytes()
        return name

    model = spec.model
    if model is not None and model not in bundled_models():
        model = ship(str(resolve_model_path(model)), "model" + Path(resolve_model_path(model)).suffix)
    weights = ship(spec.encoder.weights, "encoder" + Path(spec.encoder.weights).suffix) if spec.encoder.weights else None
    shipped = replace(
        spec,
        styles=[ship(path, f"style{index}{Path(path).suffix}") for index, path in enumerate(spec.styles)],
        mask=ship(spec.mask, "mask" + Path(spec.mask).suffix) if spec.mask else None,
        model=model,
        encoder=replace(spec.encoder, weights=weights),
    )
    return shipped.to_dict(), files


def _rooted(data: dict, folder: Path, files: dict[str, bytes]) -> dict:
    """The inverse of :func:`portable_spec` on a worker: the files written under ``folder``, the spec's names pointing there."""
    for name, content in files.items():
        (folder / name).write_bytes(content)
    local = lambda name: str(folder / name) if name in files else name
    data = dict(data, styles=[local(name) for name in data["styles"]], mask=local(data["mask"]) if data["mask"] else None)
    data["model"] = local(data["model"]) if data["model"] else None
    data["encoder"] = dict(data["encoder"], weights=local(data["encoder"]["weights"]) if data["encoder"]["weights"] else None)
    return data


class StylizerActor:
    """A Ray actor: builds the one-pass stylizer of a spec at its first batch, then stylizes batches of frames."""

    def __init__(self, spec_data: dict, device: str, threads: int):
        use_threads(threads)
        self.spec_data, self.device = spec_data, device
        self.stylizer: FrameStylizer | None = None  # built on the first batch, from the shipped files

    def stylize(self, files: list, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        """``files``: ``[ref]`` to :func:`portable_spec`'s files, read once (a nested reference, which the
        driver keeps alive: an actor Ray restarts, and the batch it retries, find it again)."""
        if self.stylizer is None:
            import ray

            from ..methods.one_pass import build_stylizer
            from ..spec import MethodSpec

            folder = Path(tempfile.mkdtemp(prefix="videostyle-worker-"))
            self.stylizer, _ = build_stylizer(MethodSpec.from_dict(_rooted(self.spec_data, folder, ray.get(files[0]))), self.device)
        return self.stylizer.stylize_batch(indices, frames)

    def where(self) -> tuple[str, int]:
        """The Ray node and the process this actor runs in."""
        import ray

        return ray.get_runtime_context().get_node_id(), os.getpid()


class _ActorPool:
    """``settings.workers`` actors of one kind, restarted by Ray when they die (their unfinished calls run again),
    and how many calls may be on their way at once (``limit``)."""

    ray: Any  # the ray module
    settings: RaySettings

    def _start_actors(self, actor_type: type, *arguments) -> None:
        """Start the actors: ``actor_type(*arguments, device, threads)`` with the settings' CPUs and GPUs each."""
        settings = self.settings
        remote = self.ray.remote(num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker, max_restarts=-1, max_task_retries=-1)
        device = "cuda" if settings.gpus_per_worker > 0 else "cpu"
        self.actors = [remote(actor_type).remote(*arguments, device, settings.threads) for _ in range(int(settings.workers))]
        self.limit = settings.batches_in_flight or 2 * len(self.actors)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []


class RayFrames(_ActorPool, FrameStylizer):
    """The pipeline's :class:`~videostyle.methods.frames.FrameStylizer` on Ray: ``workers`` actors, batches of
    ``spec.batch_size`` frames, at most ``batches_in_flight`` on their way, results in order."""

    def __init__(self, spec, settings: RaySettings):
        settings.check()
        if not spec.one_pass:
            raise VideostyleError("RayFrames runs the one-pass methods; the optimisation method runs as RayChunkedFrames", parameter="ray")
        ray = connect(settings.address)
        self.ray, self.settings, self.batch_size = ray, settings, spec.batch_size
        spec_data, files = portable_spec(spec)
        self.files_ref = ray.put(files)  # held for the actors' lifetime: a restarted actor reads it again
        self._start_actors(StylizerActor, spec_data)

    def stylize_batches(self, batches: Iterable[list[tuple[int, np.ndarray]]]) -> Iterator[tuple[list, list[np.ndarray]]]:
        """Send batches to the least busy actor, at most ``limit`` on their way; yield ``(batch, outputs)`` in order."""
        load = dict.fromkeys(range(len(self.actors)), 0)
        in_flight: deque = deque()

        def finish():
            batch, ref, actor = in_flight.popleft()
            outputs = fetch(self.ray, ref)
            load[actor] -= 1
            return batch, outputs

        for batch in batches:
            actor = min(load, key=load.__getitem__)
            in_flight.append((batch, self._submit(self.actors[actor], batch), actor))
            load[actor] += 1
            if len(in_flight) >= self.limit:
                yield finish()
        while in_flight:
            yield finish()

    def _submit(self, actor, batch: list[tuple[int, np.ndarray]]):
        return actor.stylize.remote([self.files_ref], [index for index, _ in batch], [frame for _, frame in batch])

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        return fetch(self.ray, self._submit(self.actors[0], list(zip(indices, frames, strict=True))))


class BatchActor:
    """A Ray actor for batches of pictures: keeps one network per style set (one-pass methods) and one
    encoder, and stylizes contents sent as file bytes."""

    def __init__(self, device: str, threads: int):
        use_threads(threads)
        self.device, self.encoder = device, None
        self.stylizers: dict[str, OnePassStylizer] = {}
        self.specs: dict[str, MethodSpec] = {}

    def stylize(self, key: str, spec_data: dict, files: list, content: bytes, name: str) -> np.ndarray | str:
        """The stylized picture (``H x W x 3`` uint8), or the one-line reason the content (file ``name``) cannot
        be read. ``key`` names the style set; ``files``: ``[ref]`` to its :func:`portable_spec` files."""
        import ray

        from ..api import stylize
        from ..io.image import decode_image, to_uint8
        from ..registry import method_record
        from ..spec import MethodSpec

        try:
            picture = decode_image(content, name)
        except VideostyleError as error:
            return str(error)
        if key not in self.specs:
            folder = Path(tempfile.mkdtemp(prefix="videostyle-worker-"))
            self.specs[key] = MethodSpec.from_dict(_rooted(spec_data, folder, ray.get(files[0])))
        spec = self.specs[key]
        if self.encoder is None and method_record(spec.method).styles != "none":
            self.encoder = spec.encoder.load(self.device)
        if spec.one_pass and key not in self.stylizers:
            from ..methods.one_pass import build_stylizer

            self.stylizers[key] = build_stylizer(spec, self.device, self.encoder)[0]
        try:
            return to_uint8(stylize(picture, spec, device=self.device, encoder=self.encoder, stylizer=self.stylizers.get(key)).image)
        except VideostyleError as error:
            return f"{name}: {error}"


class RayBatch(_ActorPool):
    """A batch of pictures on Ray: ``workers`` :class:`BatchActor` s, at most two items each on their way,
    results handed back as they finish (the driver writes them)."""

    def __init__(self, specs: dict, settings: RaySettings):
        """``specs``: ``{style set: spec}``, every style set of the batch."""
        settings.check()
        ray = connect(settings.address)
        self.ray, self.settings = ray, settings
        self.shipped = {}
        for number, (styles, spec) in enumerate(specs.items()):
            spec_data, files = portable_spec(spec)
            self.shipped[styles] = (str(number), spec_data, ray.put(files))
        self._start_actors(BatchActor)

    def run(self, items) -> Iterator[tuple[object, np.ndarray | str]]:
        """``(item, picture or reason)`` for every item, in the order they finish; the least busy actor takes the next."""
        ray = self.ray
        load = dict.fromkeys(range(len(self.actors)), 0)
        waiting: dict = {}  # ref -> (item, actor)

        def finished():
            ready, _ = ray.wait(list(waiting), num_returns=1)
            item, actor = waiting.pop(ready[0])
            load[actor] -= 1
            return item, fetch(ray, ready[0])

        for item in items:
            try:
                content = Path(item.content).read_bytes()
            except OSError as error:
                yield item, f"cannot read {item.content}: {error.strerror}"
                continue
            actor = min(load, key=load.__getitem__)
            key, spec_data, files = self.shipped[item.styles]
            waiting[self.actors[actor].stylize.remote(key, spec_data, [files], content, str(item.content))] = (item, actor)
            load[actor] += 1
            if len(waiting) >= self.limit:
                yield finished()
        while waiting:
            yield finished()


def _ruder_on_worker(spec_data: dict, files: dict[str, bytes], folder: Path, flows: dict):
    """A :class:`~videostyle.methods.ruder.RuderStylizer` built on a worker from a shipped spec, with given flows."""
    import torch

    from ..flow import make_estimator
    from ..io.image import load_image, to_tensor
    from ..methods.ruder import RuderStylizer
    from ..spec import MethodSpec
    from .chunks import GivenFlows

    spec = MethodSpec.from_dict(_rooted(spec_data, folder, files))
    device = torch.device("cpu")
    options = spec.video_options()
    styles = [to_tensor(load_image(path), device) for path in spec.styles]
    return RuderStylizer(spec.encoder.load(device), styles, options, GivenFlows(flows, make_estimator(options.flow)), device, spec.picture_options())


def _flow_task(estimator: str, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
    import cv2

    from ..flow import make_estimator

    cv2.setNumThreads(1)

    return make_estimator(estimator)(frame_a, frame_b)


def _keyframe_task(spec_data: dict, files: list, index: int, frame: np.ndarray, threads: int) -> np.ndarray:
    """A chunk's first frame, stylized on its own as the first frame of a clip is."""
    import ray

    use_threads(threads)
    folder = Path(tempfile.mkdtemp(prefix="videostyle-worker-"))
    return _ruder_on_worker(spec_data, ray.get(files[0]), folder, {}).stylize(index, frame).output


def _chunk_task(spec_data: dict, files: list, chunk, frames: list, start_output, flows: dict, threads: int) -> dict[int, np.ndarray]:
    """The temporal method over one chunk from its start frame's result; ``{frame: output}``, the start included.
    ``frames`` and ``flows`` hold references (one per frame or pair), fetched here."""
    import ray

    use_threads(threads)
    folder = Path(tempfile.mkdtemp(prefix="videostyle-worker-"))
    flow_arrays = dict(zip(flows, ray.get(list(flows.values())), strict=True))
    pictures: list[np.ndarray] = ray.get(frames)
    start = start_output if isinstance(start_output, np.ndarray) else ray.get(start_output)
    ruder = _ruder_on_worker(spec_data, ray.get(files[0]), folder, flow_arrays)
    ruder.observe(chunk.start, pictures[0], start)
    outputs = {chunk.start: start}
    for index, frame in zip(chunk.stylized, pictures[1:], strict=True):
        outputs[index] = ruder.stylize(index, frame).output
    return outputs


class RayChunkedFrames(FrameStylizer):
    """The optimisation method (Ruder et al.) on Ray, as the pipeline's stylizer: the clip is cut into
    overlapping chunks (:mod:`.chunks`); every flow is computed first as parallel tasks, then every chunk's
    keyframe, then the chunks, each from its keyframe; the overlaps are cross-faded.

    It takes in the whole clip (frames go to Ray's object store as they are decoded), then yields the
    frames in order as the chunks finish. Each finished chunk is kept in its own folder of the run folder
    (``chunks/START-END``, PNGs), whatever order they finish in, so an interrupted run redoes only the
    chunks that had not finished. The plan's first frame is kept in ``chunks/plan.json``: a run that
    resumes frames written by a run without Ray starts its first chunk from the last of them instead of
    a keyframe."""

    batch_size = 1

    def __init__(self, spec, settings: RaySettings, run_folder: Path | None = None):
        settings.check()
        options = spec.video_options()
        if options.passes > 1:
            raise VideostyleError("multi-pass runs (passes > 1) are not built for Ray; run them without --ray", parameter="passes")
        if options.flow_dir is not None:
            raise VideostyleError("a flow folder (flow_dir) is not shipped to Ray workers; run without --ray", parameter="flow_dir")
        self.overlap = settings.chunk_overlap or max(DEFAULT_OVERLAP, max(options.long_term))
        if self.overlap < max(options.long_term):
            raise VideostyleError(
                f"chunk_overlap ({self.overlap}) must be at least the longest long-term gap ({max(options.long_term)})", parameter="chunk_overlap"
            )
        self.length, self.gaps, self.estimator, self.threads = settings.chunk_frames, list(options.long_term), options.flow, settings.threads
        if self.length < self.overlap + 2:
            raise VideostyleError(f"chunk_frames ({self.length}) must be at least the overlap ({self.overlap}) plus 2", parameter="chunk_frames")
        ray = connect(settings.address)
        self.ray = ray
        self.spec_data, files = portable_spec(spec)
        self.files_ref = ray.put(files)
        resources = {"num_cpus": settings.cpus_per_worker, "num_gpus": settings.gpus_per_worker}
        self.flow_task = ray.remote(num_cpus=1)(_flow_task)
        self.keyframe_task = ray.remote(**resources, max_retries=-1)(_keyframe_task)
        self.chunk_task = ray.remote(**resources, max_retries=-1)(_chunk_task)
        self.chunks_folder = None if run_folder is None else Path(run_folder) / "chunks"
        self.replayed: dict[int, tuple] = {}  # frames of an earlier run: index -> (frame ref, output ref)
        self.submitted: list = []  # every task of this run, cancelled by close() if still running
        self.chunks_reused = self.chunks_run = 0

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        self.replayed[index] = (self.ray.put(frame), self.ray.put(output))

    def stylize_batch(self, indices, frames):
        raise VideostyleError("the chunked optimisation runs a whole clip at once (stylize_batches)")

    def stylize_batches(self, batches: Iterable[list[tuple[int, np.ndarray]]]) -> Iterator[tuple[list, list[np.ndarray]]]:
        from .chunks import flow_pairs, joined_frames, plan_chunks

        ray = self.ray
        frame_refs: dict[int, object] = {index: frame for index, (frame, _) in self.replayed.items()}
        for batch in batches:
            for index, frame in batch:
                frame_refs[index] = ray.put(frame)
        first = len(self.replayed)
        if len(frame_refs) == first:
            return
        origin = self._origin(first)
        chunks = plan_chunks(origin, max(frame_refs) + 1, self.length, self.overlap)
        finished = {number for number, chunk in enumerate(chunks) if chunk.end <= first or self._chunk_kept(chunk)}
        to_run = [chunk for number, chunk in enumerate(chunks) if number not in finished]
        flows = {pair: None for chunk in to_run for pair in flow_pairs(chunk, self.gaps)}
        for a, b in flows:
            flows[(a, b)] = self.flow_task.remote(self.estimator, frame_refs[a], frame_refs[b])  # every flow first, in parallel
        running = {}
        for number, chunk in enumerate(chunks):
            if number in finished:
                continue
            if chunk.start < first:  # the last frame a run without Ray wrote
                start = self.replayed[chunk.start][1]
            else:
                start = self.keyframe_task.remote(self.spec_data, [self.files_ref], chunk.start, frame_refs[chunk.start], self.threads)
                self.submitted.append(start)
            frames = [frame_refs[index] for index in range(chunk.start, chunk.end)]
            pairs = {pair: flows[pair] for pair in flow_pairs(chunk, self.gaps)}
            running[self.chunk_task.remote(self.spec_data, [self.files_ref], chunk, frames, start, pairs, self.threads)] = number
        self.submitted += [*flows.values(), *running]
        self.chunks_run, self.chunks_reused = len(running), len(finished)
        for index, output in joined_frames(chunks, self._results_in_order(chunks, finished, running, first), self.overlap, first):
            yield [(index, None)], [output]

    def _origin(self, first: int) -> int:
        """The plan's first frame: the one an earlier run of this folder planned from, else the last frame a run without
        Ray wrote (``first - 1``), else 0. Written to ``chunks/plan.json`` before any chunk."""
        if self.chunks_folder is None:
            return max(first - 1, 0)
        plan = self.chunks_folder / "plan.json"
        try:
            return int(json.loads(plan.read_text())["origin"])
        except (OSError, ValueError, KeyError, TypeError):
            origin = max(first - 1, 0)
            self.chunks_folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(plan) as tmp:
                tmp.write_text(json.dumps({"origin": origin}))
            return origin

    def _chunk_path(self, chunk) -> Path:
        assert self.chunks_folder is not None
        return self.chunks_folder / f"{chunk.start:06d}-{chunk.end:06d}"

    def _chunk_kept(self, chunk) -> bool:
        return self.chunks_folder is not None and self._chunk_path(chunk).is_dir()

    def _results_in_order(self, chunks, finished: set[int], running: dict, first: int) -> Iterator[dict[int, np.ndarray]]:
        """Each chunk's ``{frame: output}`` in chunk order: read back from its folder, empty when all its frames were written
        before, or fetched from its task. Tasks are taken as they finish, and each is kept in its folder at once."""
        from ..io.image import load_frame_png, save_frame_png

        arrived: dict[int, dict[int, np.ndarray]] = {}
        waiting = dict(running)
        for number, chunk in enumerate(chunks):
            if number in finished:
                wanted = range(max(first, chunk.start), chunk.end)  # empty when every frame of it was written before
                yield {index: load_frame_png(self._chunk_path(chunk) / f"{index:06d}.png") for index in wanted}
                continue
            while number not in arrived:
                ready, _ = self.ray.wait(list(waiting), num_returns=1)
                done = waiting.pop(ready[0])
                arrived[done] = fetch(self.ray, ready[0])
                if self.chunks_folder is not None:
                    with atomic_folder(self._chunk_path(chunks[done])) as tmp:
                        for index, output in arrived[done].items():
                            save_frame_png(output, tmp / f"{index:06d}.png")
            yield arrived.pop(number)

    def close(self) -> None:
        """Cancel what is still running (an interrupted or failed run leaves no work on the cluster)."""
        for ref in self.submitted:
            try:
                self.ray.cancel(ref, force=True)
            except self.ray.exceptions.RayError:
                continue
        self.submitted = []
