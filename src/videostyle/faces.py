"""Faces from several exemplars (after Song, Bao, Yang, Yang 2017, "Stylizing Face Images via Multiple
Exemplars", CVIU).

A portrait photo is painted in the manner of several painted portraits (the exemplars) at once, each part
of the face taking its strokes from the exemplar that fits it best:

1. **Faces and regions.** The face is found by OpenCV's Haar cascade (shipped in ``data/cascades``) in the
   content and in each exemplar, the eyes by the eye cascade inside it. The content is divided into
   regions laid out on its face box: background, hair and forehead, skin, eyes, nose, mouth
   (:data:`REGIONS`); no landmark model ships in a package reachable here, so the layout is proportional,
   with the eye line moved to the detected eyes. ``face_box`` overrides the detector.
2. **Alignment.** Each exemplar is mapped onto the content by the similarity that takes its face box onto
   the content's (scale and shift), so the same region lies at the same place in every picture.
3. **Choosing exemplars: an MRF over cells.** The picture is cut into cells; each cell picks one exemplar
   by minimising a data term (1 - cosine similarity of the cell's relu4_1 features, content against the
   aligned exemplar, both grey so that colour does not decide) plus a smoothness term between neighbours
   (``smoothness`` for a change of exemplar, plus how much the two exemplars differ along the shared
   border, as in graph-cut textures), by iterated conditional modes from the best data term.
4. **Seams.** The cells' one-hot choices are smoothed by a guided filter (opencv-contrib's ximgproc) with
   the content as guide, an edge-preserving blend, and the exemplars are mixed by these weights into one
   style picture (the collage), with no seam between cells of different exemplars.
5. **Painting.** The content is optimised with the MRF loss (Li and Wand 2016) against the collage, the
   region maps appended to the features (as neural doodles: :mod:`videostyle.doodle`), so each region's
   patches come from the same region of the chosen exemplars, plus the content loss.

>>> result, report = stylize_face("photo.jpg", ["portrait1.png", "portrait2.png"], output="out.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .checks import check_size
from .errors import VideostyleError
from .features import VGGEncoder
from .io.image import load_image, size_for_long_side, to_tensor
from .losses import functional as LF
from .options import GatysOptions

#: The regions of a face, in the order of the map's channels.
REGIONS = ("background", "hair", "skin", "eyes", "nose", "mouth")
#: Distinct colours of the regions, for pictures of the map.
REGION_COLOURS = np.array([[40, 40, 40], [150, 90, 40], [230, 180, 150], [60, 120, 230], [240, 220, 80], [220, 60, 60]], np.uint8)
#: The face's default long side in pixels.
FACE_SIZE = 384
#: The face's default optimisation: the MRF loss guided by the region maps, with the content loss.
FACE_OPTIONS = GatysOptions(iterations=200, style_loss="mrf", mrf_weight=1.0, content_weight=1.0, tolerance=0.0)
#: Cells of the exemplar choice, in pixels of the working size.
CELL = 16
#: The cost of a change of exemplar between neighbouring cells, on top of how much the two differ there.
SMOOTHNESS = 0.05
#: The smallest face the detector looks for, as a share of the picture's shorter side.
MIN_FACE_SHARE = 0.08


@dataclass(frozen=True)
class ExemplarChoice:
    """How the exemplars are chosen over the face: in cells of ``cell`` pixels of the working size, a change of
    exemplar between neighbouring cells costing ``smoothness`` on top of how much the two differ there."""

    cell: int = CELL
    smoothness: float = SMOOTHNESS


class FaceBox(NamedTuple):
    """A face's box in pixels, and the height of its eye line as a share of the box (from its top)."""

    left: int
    top: int
    width: int
    height: int
    eye_line: float = 0.38


@dataclass
class FaceReport:
    """What :func:`stylize_face` found and chose."""

    content_box: FaceBox
    exemplar_boxes: list[FaceBox]
    exemplar_share: list[float]  # share of the cells that took each exemplar
    regions: np.ndarray  # H x W int, indices into REGIONS
    collage: np.ndarray  # H x W x 3 uint8, the style picture the content was painted against
    choice: np.ndarray  # cells, the exemplar each chose
    region_style_distance: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = resources.files("videostyle") / "data" / "cascades" / name
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise VideostyleError(f"the face detector {name} is missing or damaged in this installation")
    return classifier


def detect_face(picture: np.ndarray) -> FaceBox | None:
    """The largest frontal face in ``picture`` (``H x W x 3`` uint8), with its eye line from the eye detector
    (two eyes in the box's upper half; else the proportional default); None when there is none."""
    grey = cv2.equalizeHist(cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY))
    least = max(24, round(MIN_FACE_SHARE * min(grey.shape)))
    detector = _cascade("haarcascade_frontalface_default.xml")
    for neighbours in (4, 3, 2):  # fewer agreeing detections asked for only when the stricter pass finds none (painted faces)
        faces = detector.detectMultiScale(grey, scaleFactor=1.05, minNeighbors=neighbours, minSize=(least, least))
        if len(faces):
            break
    else:
        return None
    left, top, width, height = (int(value) for value in max(faces, key=lambda box: box[2] * box[3]))
    upper = grey[top : top + height // 2 + height // 8, left : left + width]
    eyes = _cascade("haarcascade_eye.xml").detectMultiScale(upper, scaleFactor=1.1, minNeighbors=5, minSize=(max(8, width // 10),) * 2)
    eye_line = FaceBox._field_defaults["eye_line"]
    if len(eyes) >= 2:
        two = sorted(eyes, key=lambda box: box[2] * box[3], reverse=True)[:2]
        centres = [(y + h / 2) / height for _, y, _, h in two]
        if abs(centres[0] - centres[1]) < 0.15 and 0.2 < np.mean(centres) < 0.55:
            eye_line = float(np.mean(centres))
    return FaceBox(left, top, width, height, eye_line)


def face_regions(height: int, width: int, box: FaceBox) -> np.ndarray:
    """The region of every pixel (``H x W`` int, indices into :data:`REGIONS`), laid out on ``box``: the skin
    an ellipse over the box, the hair a band above the eyes' forehead, and eyes, nose and mouth bands placed
    from the eye line down."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    v, u = (v - box.top) / box.height, (u - box.left) / box.width
    eye = box.eye_line
    regions = np.zeros((height, width), np.int64)
    head = ((u - 0.5) / 0.62) ** 2 + ((v - 0.45) / 0.8) ** 2 <= 1
    regions[head & (v < eye - 0.14)] = REGIONS.index("hair")
    skin = ((u - 0.5) / 0.5) ** 2 + ((v - 0.55) / 0.58) ** 2 <= 1
    regions[skin & (v >= eye - 0.14)] = REGIONS.index("skin")
    regions[(np.abs(v - eye) <= 0.1) & (u > 0.1) & (u < 0.9)] = REGIONS.index("eyes")
    regions[(v > eye + 0.1) & (v <= eye + 0.36) & (np.abs(u - 0.5) <= 0.16)] = REGIONS.index("nose")
    regions[(v > eye + 0.36) & (v <= eye + 0.56) & (np.abs(u - 0.5) <= 0.26)] = REGIONS.index("mouth")
    return regions


def region_picture(regions: np.ndarray) -> np.ndarray:
    """The region map in :data:`REGION_COLOURS` (``H x W x 3`` uint8)."""
    return REGION_COLOURS[regions]


def align(picture: np.ndarray, box: FaceBox, onto: FaceBox, height: int, width: int) -> np.ndarray:
    """``picture`` mapped by the similarity that takes ``box`` onto ``onto`` (scale by the widths, then shift),
    into an ``height x width`` frame; edges mirrored."""
    scale = onto.width / box.width
    eye_shift = (onto.eye_line * onto.height) - scale * (box.eye_line * box.height)  # eye lines meet
    matrix = np.array([[scale, 0, onto.left - scale * box.left], [0, scale, onto.top + eye_shift - scale * box.top]], np.float32)
    return cv2.warpAffine(picture, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _cell_features(encoder: VGGEncoder, picture: np.ndarray, cell: int, device) -> torch.Tensor:
    """Unit relu4_1 feature vectors of the grey picture, averaged over each cell: ``C x rows x cols``."""
    grey = np.repeat(cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    with torch.no_grad():
        features = encoder(to_tensor(grey, device), ["relu4_1"])["relu4_1"]
    rows, cols = -(-picture.shape[0] // cell), -(-picture.shape[1] // cell)
    pooled = F.adaptive_avg_pool2d(features, (rows, cols))[0]
    return pooled / pooled.norm(dim=0, keepdim=True).clamp_min(1e-8)


def choose_exemplars(data_cost: np.ndarray, border_cost: tuple[np.ndarray, np.ndarray], smoothness: float = SMOOTHNESS, sweeps: int = 10) -> np.ndarray:
    """The exemplar of every cell minimising an MRF energy by iterated conditional modes.

    ``data_cost``: ``K x rows x cols``; ``border_cost``: ``(K x K x rows x cols-1, K x K x rows-1 x cols)``, the
    cost of exemplars a and b meeting across each vertical and horizontal cell border (0 on the diagonal).
    The energy is the data cost of every cell's choice plus, for every border whose two cells chose
    differently, ``smoothness`` plus the border cost. Returns ``rows x cols`` int."""
    exemplars, rows, cols = data_cost.shape
    across, down = border_cost
    labels = data_cost.argmin(axis=0)
    for _ in range(sweeps):
        changed = 0
        for row in range(rows):
            for col in range(cols):
                energy = data_cost[:, row, col].copy()
                for neighbour, costs in (
                    ((row, col - 1), across[:, :, row, col - 1].T if col > 0 else None),
                    ((row, col + 1), across[:, :, row, col] if col < cols - 1 else None),
                    ((row - 1, col), down[:, :, row - 1, col].T if row > 0 else None),
                    ((row + 1, col), down[:, :, row, col] if row < rows - 1 else None),
                ):
                    if costs is None:
                        continue
                    other = labels[neighbour]
                    energy += (costs[:, other] + smoothness) * (np.arange(exemplars) != other)
                best = int(energy.argmin())
                if best != labels[row, col]:
                    labels[row, col] = best
                    changed += 1
        if not changed:
            break
    return labels


def border_costs(aligned: list[np.ndarray], cell: int, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """How much each pair of aligned exemplars differ along each cell border: the mean absolute difference of
    their pixels (in [0, 1]) on the two pixel lines either side of it."""
    pictures = np.stack([picture.astype(np.float32) / 255 for picture in aligned])  # K x H x W x 3
    count = len(aligned)
    across = np.zeros((count, count, rows, max(cols - 1, 0)), np.float32)
    down = np.zeros((count, count, max(rows - 1, 0), cols), np.float32)
    height, width = pictures.shape[1:3]
    for a in range(count):
        for b in range(a + 1, count):
            difference = np.abs(pictures[a] - pictures[b]).mean(axis=-1)  # H x W
            for col in range(cols - 1):
                x = min((col + 1) * cell, width - 1)
                lines = difference[:, max(x - 1, 0) : x + 1].mean(axis=1)
                across[a, b, :, col] = across[b, a, :, col] = [lines[r * cell : (r + 1) * cell].mean() for r in range(rows)]
            for row in range(rows - 1):
                y = min((row + 1) * cell, height - 1)
                lines = difference[max(y - 1, 0) : y + 1, :].mean(axis=0)
                down[a, b, row, :] = down[b, a, row, :] = [lines[c * cell : (c + 1) * cell].mean() for c in range(cols)]
    return across, down


def blend_exemplars(aligned: list[np.ndarray], choice: np.ndarray, content: np.ndarray, cell: int) -> np.ndarray:
    """The collage: the aligned exemplars mixed by their cells' choices, the one-hot choices smoothed by a guided
    filter (guide: the content, radius one cell) so that the seams between exemplars follow the content's edges
    and fade over a cell. ``H x W x 3`` uint8."""
    height, width = content.shape[:2]
    guide = content.astype(np.float32) / 255
    weights = []
    for index in range(len(aligned)):
        hard = np.kron((choice == index).astype(np.float32), np.ones((cell, cell), np.float32))[:height, :width]
        weights.append(np.clip(cv2.ximgproc.guidedFilter(guide, np.ascontiguousarray(hard), cell, 1e-3), 0, None))
    total = np.maximum(sum(weights), 1e-6)
    mixed = sum(w[:, :, None] * picture.astype(np.float32) for w, picture in zip(weights, aligned, strict=True)) / total[:, :, None]
    return np.clip(mixed, 0, 255).astype(np.uint8)


def region_style_distances(encoder: VGGEncoder, picture: torch.Tensor, reference: torch.Tensor, regions: np.ndarray) -> dict[str, float]:
    """For each region present, the Gram distance between ``picture`` and ``reference`` (both ``1 x 3 x H x W``,
    the same size) over that region alone: mean over relu1_1..relu4_1 of the squared difference of the
    Grams of the region's features (features masked by the region resized to each layer, normalised by its area)."""
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    with torch.no_grad():
        ours, theirs = encoder(picture, layers), encoder(reference, layers)
    distances = {}
    for index, name in enumerate(REGIONS):
        mask = torch.from_numpy((regions == index).astype(np.float32))[None, None].to(picture.device)
        if mask.mean() < 0.005:
            continue
        total = 0.0
        for layer in layers:
            weight = F.interpolate(mask, size=ours[layer].shape[-2:], mode="area")
            area = weight.sum().clamp_min(1.0)

            def gram(features: torch.Tensor, weight=weight, area=area) -> torch.Tensor:
                flat = (features * weight.sqrt()).flatten(2)
                return flat @ flat.transpose(1, 2) / (features.shape[1] * area)

            total += float(LF.style_loss_of_grams(gram(ours[layer]), gram(theirs[layer])))
        distances[name] = total / len(layers)
    return distances


def _picture(source) -> np.ndarray:
    """A path, Pillow image, array or tensor as ``H x W x 3`` uint8 (transparent parts over white)."""
    from .io.image import to_uint8

    return np.asarray(load_image(source)) if isinstance(source, str | os.PathLike) else to_uint8(to_tensor(source))


def stylize_face(
    content,
    exemplars,
    *,
    output: str | os.PathLike | None = None,
    options: GatysOptions | None = None,
    size: int | None = FACE_SIZE,
    face_box: FaceBox | Sequence[int] | None = None,
    exemplar_choice: ExemplarChoice = ExemplarChoice(),
    encoder: VGGEncoder | None = None,
    device=None,
    callback=None,
):
    """Paint the face of ``content`` from the painted faces ``exemplars`` (paths, images, arrays or tensors);
    returns ``(ImageResult, FaceReport)``. ``options``: :data:`FACE_OPTIONS` by default; ``size``: the long
    side (None: the content's own). ``face_box``: the content's face ``(left, top, width, height)`` in the content's own pixels,
    instead of the detector's. ``exemplar_choice``: the cells and smoothness of the choice between exemplars. One
    exemplar works too: every cell takes it."""
    from .devices import resolve_device
    from .io.atomic import check_not_an_input, check_writable_destination
    from .io.image import save_image
    from .methods.gatys import stylize
    from .results import ImageResult
    from .spec import EncoderSpec

    exemplars = list(exemplars) if isinstance(exemplars, list | tuple) else [exemplars]
    if not exemplars:
        raise VideostyleError("method faces needs at least one exemplar portrait in styles", parameter="styles")
    if output is not None:
        check_writable_destination(output)
        check_not_an_input(output, [content, *exemplars])
    options = replace(options or FACE_OPTIONS, style_scale=1.0)
    if options.style_loss == "gram":
        options = replace(options, style_loss="mrf")
    options = options.check()
    check_size("size", size)
    if options.scales != 1:
        raise VideostyleError("a face is painted at one scale", parameter="scales")
    device = resolve_device(device)
    encoder = encoder if encoder is not None else EncoderSpec().load(device)
    notes: list[str] = []
    photo = _picture(content)
    height, width = size_for_long_side(photo.shape[0], photo.shape[1], size) if size else photo.shape[:2]
    scale = height / photo.shape[0]
    photo = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    if face_box is not None:
        given = FaceBox(*face_box)
        box = FaceBox(
            round(given.left * scale), round(given.top * scale), max(1, round(given.width * scale)), max(1, round(given.height * scale)), given.eye_line
        )
        notes.append("the face box was given, not detected")
    else:
        found = detect_face(photo)
        if found is None:
            raise VideostyleError(
                "no face found in the content: give its box with --face-box LEFT,TOP,WIDTH,HEIGHT (in the content's pixels)", parameter="face_box"
            )
        box = found
    aligned, boxes = [], []
    for index, exemplar in enumerate(exemplars):
        picture = _picture(exemplar)
        found = detect_face(picture)
        if found is None:
            name = exemplar if isinstance(exemplar, str | os.PathLike) else f"exemplar {index + 1}"
            raise VideostyleError(f"no face found in the exemplar {name}: give portraits with a frontal face", parameter="styles")
        boxes.append(found)
        aligned.append(align(picture, found, box, height, width))
    regions = face_regions(height, width, box)
    cell = exemplar_choice.cell
    rows, cols = -(-height // cell), -(-width // cell)
    if len(aligned) == 1:
        choice = np.zeros((rows, cols), np.int64)
    else:
        ours = _cell_features(encoder, photo, cell, device)
        data_cost = np.stack([(1 - (ours * _cell_features(encoder, picture, cell, device)).sum(0)).cpu().numpy() for picture in aligned])
        choice = choose_exemplars(data_cost, border_costs(aligned, cell, rows, cols), exemplar_choice.smoothness)
    collage = blend_exemplars(aligned, choice, photo, cell) if len(aligned) > 1 else aligned[0]
    maps = torch.from_numpy(np.stack([(regions == k).astype(np.float32) for k in range(len(REGIONS))]))[None]
    result = stylize(to_tensor(photo, device), [to_tensor(collage, device)], options, encoder=encoder, callback=callback, semantic_maps=(maps, maps))
    image = ImageResult(**vars(result))
    shares = [float((choice == k).mean()) for k in range(len(aligned))]
    report = FaceReport(box, boxes, shares, regions, collage, choice, notes=notes)
    report.region_style_distance = region_style_distances(encoder, image.image.to(device), to_tensor(collage, device), regions)
    if output is not None:
        save_image(image.image, output)
    return image, report
