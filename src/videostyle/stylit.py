"""StyLit (Fišer et al. 2016, "Illumination-guided example-based stylization of 3D renderings"): an artist paints a
lit sphere, and a 3D scene is painted in that hand, each stroke chosen where the light does the same thing.

Both the sphere's scene and the target scene are rendered with Mitsuba 3 (extra ``videostyle[render]``) into the
paper's light-path channels, each an RGB picture:

- ``full``: the whole render (diffuse and glossy, up to 6 bounces);
- ``direct diffuse`` (LDE): light reflected once, diffusely;
- ``direct specular`` (LSE): the highlight, light reflected once by a glossy surface;
- ``indirect 1`` (LD{2}E) and ``indirect 2`` (LD{3}E): light that bounced diffusely once or twice more before,
  as differences of path-traced renders capped at 2, 3 and 4 bounces with the same samples.

The same camera (looking down the -z axis from 4 units, 30 degrees), the same point light (up, left and in front)
and a grey ground plane under the object, as the paper's exemplar scene has. Each channel is scaled by the 99th
percentile of the sphere's, the same scale for the target, and clipped to [0, 1]. Then the guided synthesis of
:mod:`videostyle.synthesis` with StyLit's uniform retrieval paints the target's channels after the sphere's.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import VideostyleError
from .synthesis import Guide, SynthesisOptions, synthesize

#: The light-path channels, in the order of the sheet.
CHANNELS = ("full", "direct diffuse", "direct specular", "indirect 1", "indirect 2")
#: The target scene when no mesh is given: a torus leaning on a box beside a cylinder.
BUNDLED_SCENE = "bundled"


@dataclass(frozen=True)
class RenderSettings:
    """``size``: width and height of the renders in pixels; ``samples``: paths per pixel (more: less noise)."""

    size: int = 256
    samples: int = 64


def _mitsuba():
    try:
        import mitsuba as mi
    except ImportError as error:
        raise VideostyleError("rendering needs Mitsuba 3: pip install 'videostyle[render]'") from error
    mi.set_variant("scalar_rgb")
    return mi


def _torus_obj(path: Path, major: float = 0.7, minor: float = 0.3, rings: int = 64, sides: int = 32) -> Path:
    """A torus as a Wavefront OBJ (positions, normals and quads), lying in the x-z plane around the origin."""
    lines = []
    for ring in range(rings):
        u = 2 * np.pi * ring / rings
        for side in range(sides):
            v = 2 * np.pi * side / sides
            normal = (np.cos(u) * np.cos(v), np.sin(v), np.sin(u) * np.cos(v))
            lines.append(f"v {(major + minor * np.cos(v)) * np.cos(u):.5f} {minor * np.sin(v):.5f} {(major + minor * np.cos(v)) * np.sin(u):.5f}")
            lines.append(f"vn {normal[0]:.5f} {normal[1]:.5f} {normal[2]:.5f}")
    for ring in range(rings):
        for side in range(sides):
            a = ring * sides + side + 1
            b = ((ring + 1) % rings) * sides + side + 1
            c = ((ring + 1) % rings) * sides + (side + 1) % sides + 1
            d = ring * sides + (side + 1) % sides + 1
            lines.append(f"f {a}//{a} {d}//{d} {c}//{c} {b}//{b}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _mesh_shape(mi, path: Path) -> dict:
    """A mesh file (.obj or .ply) as a shape, scaled to fit a 2-unit cube and standing on the ground plane."""
    kind = {".obj": "obj", ".ply": "ply"}.get(path.suffix.lower())
    if kind is None:
        raise VideostyleError(f"the mesh {path} is not .obj or .ply", parameter="mesh")
    if not path.is_file():
        raise VideostyleError(f"no such mesh: {path}", parameter="mesh")
    try:
        loaded = mi.load_dict({"type": kind, "filename": str(path)})
        box = loaded.bbox()
    except Exception as error:  # Mitsuba's loaders raise RuntimeError with the parser's message
        raise VideostyleError(f"the mesh {path} does not load: {str(error).strip().splitlines()[-1]}", parameter="mesh") from None
    low, high = np.array(box.min), np.array(box.max)
    extent = float((high - low).max())
    if not np.all(np.isfinite([*low, *high])) or extent <= 0:
        raise VideostyleError(f"the mesh {path} has no extent (no faces?)", parameter="mesh")
    scale = 2.0 / extent
    centre = (low + high) / 2
    shift = [-centre[0] * scale, -1.0 - low[1] * scale, -centre[2] * scale]
    return {"type": kind, "filename": str(path), "to_world": mi.ScalarTransform4f().translate(shift).scale(scale)}


def _objects(mi, scene: str | os.PathLike | None, folder: Path) -> dict[str, dict]:
    """The scene's objects without their material: the unit sphere, the bundled scene, or a mesh file."""
    transform = mi.ScalarTransform4f
    if scene is None:
        return {"sphere": {"type": "sphere", "radius": 1.0}}
    if str(scene) == BUNDLED_SCENE:
        torus = _torus_obj(folder / "torus.obj")
        return {
            "torus": {
                "type": "obj",
                "filename": str(torus),
                "to_world": transform().translate([-0.35, -0.35, 0.2]).rotate([1, 0, 0], 55).rotate([0, 0, 1], 20),
            },
            "box": {"type": "cube", "to_world": transform().translate([0.75, -0.6, -0.4]).rotate([0, 1, 0], 35).scale(0.4)},
            "cylinder": {"type": "cylinder", "p0": [-0.9, -1.0, -0.9], "p1": [-0.9, 0.5, -0.9], "radius": 0.3},
        }
    return {"mesh": _mesh_shape(mi, Path(scene))}


def _render(mi, objects: dict[str, dict], material: dict, depth: int, settings: RenderSettings) -> np.ndarray:
    transform = mi.ScalarTransform4f
    scene = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": depth},
        "sensor": {
            "type": "perspective",
            "fov": 30,
            "to_world": transform().look_at(origin=[0, 0.3, 4.5], target=[0, -0.1, 0], up=[0, 1, 0]),
            "film": {"type": "hdrfilm", "width": settings.size, "height": settings.size, "rfilter": {"type": "gaussian"}},
            "sampler": {"type": "independent", "sample_count": settings.samples},
        },
        "light": {"type": "point", "position": [-2.5, 3.0, 3.0], "intensity": {"type": "rgb", "value": 40.0}},
        "ground": {
            "type": "rectangle",
            "to_world": transform().translate([0, -1.0, 0]).rotate([1, 0, 0], -90).scale(6),
            "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": 0.5}},
        },
    }
    for name, shape in objects.items():
        scene[name] = {**shape, "bsdf": material}
    return np.array(mi.render(mi.load_dict(scene), seed=0), dtype=np.float32)[..., :3]


def render_light_paths(scene: str | os.PathLike | None, settings: RenderSettings | None = None) -> dict[str, np.ndarray]:
    """The light-path channels (:data:`CHANNELS`, ``H x W x 3`` float32, linear, unscaled) of the sphere's scene
    (``scene`` None), the bundled scene (:data:`BUNDLED_SCENE`) or a mesh file."""
    settings = settings or RenderSettings()
    mi = _mitsuba()
    diffuse = {"type": "diffuse", "reflectance": {"type": "rgb", "value": 0.8}}
    glossy = {"type": "roughconductor", "material": "none", "alpha": 0.12}
    with tempfile.TemporaryDirectory() as folder:
        objects = _objects(mi, scene, Path(folder))
        bounces = {depth: _render(mi, objects, diffuse, depth, settings) for depth in (2, 3, 4)}
        full = _render(mi, objects, {"type": "roughplastic", "alpha": 0.12, "diffuse_reflectance": {"type": "rgb", "value": 0.8}}, 6, settings)
        specular = _render(mi, objects, glossy, 2, settings)
    return {
        "full": full,
        "direct diffuse": bounces[2],
        "direct specular": specular,
        "indirect 1": np.clip(bounces[3] - bounces[2], 0, None),
        "indirect 2": np.clip(bounces[4] - bounces[3], 0, None),
    }


def scaled_channels(exemplar: dict[str, np.ndarray], target: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Both scenes' channels scaled by the 99th percentile of the exemplar's (each channel its own scale), clipped
    to [0, 1]."""
    scales = {name: max(float(np.percentile(picture, 99)), 1e-6) for name, picture in exemplar.items()}
    return (
        {name: np.clip(picture / scales[name], 0, 1) for name, picture in exemplar.items()},
        {name: np.clip(target[name] / scales[name], 0, 1) for name in exemplar},
    )


def as_picture(channel: np.ndarray) -> np.ndarray:
    """A scaled channel (``H x W x 3`` float in [0, 1]) as an ``H x W x 3`` uint8 picture."""
    return (np.clip(channel, 0, 1) * 255).round().astype(np.uint8)


def sphere_to_paint(settings: RenderSettings | None = None) -> np.ndarray:
    """The sphere's full render, scaled as the synthesis sees it, as ``H x W x 3`` uint8: the picture to paint."""
    channels = render_light_paths(None, settings)
    return as_picture(scaled_channels(channels, channels)[0]["full"])


def _tensor(picture: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(picture)).permute(2, 0, 1)[None].float().to(device)


def stylize_scene(
    painting: np.ndarray,
    exemplar: dict[str, np.ndarray],
    target: dict[str, np.ndarray],
    options: SynthesisOptions | None = None,
    channels: tuple[str, ...] = CHANNELS,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """The target painted after ``painting`` (``H x W x 3`` uint8, the sphere's scene painted), guided by the
    light-path ``channels`` of the sphere (``exemplar``) and of the target (scaled, ``H x W x 3`` float each).
    ``channels=("full",)`` is plain image analogies of the renders. Returns ``H x W x 3`` uint8."""
    device = torch.device(device)
    if painting.shape[:2] != exemplar["full"].shape[:2]:
        height, width = exemplar["full"].shape[:2]
        raise VideostyleError(f"the painted sphere is {painting.shape[1]}x{painting.shape[0]}; its renders are {width}x{height}", parameter="exemplar")
    guides = [Guide(name, _tensor(exemplar[name], device), _tensor(target[name], device), 1.0) for name in channels]
    style = _tensor(painting.astype(np.float32) / 255, device)
    result = synthesize(style, guides, options or SynthesisOptions(retrieval="uniform"))
    return (result.image[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
