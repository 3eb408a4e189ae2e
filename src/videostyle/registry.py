"""Every stylization method in one table: :data:`METHODS`, one :class:`Method` record each.

The spec's checks (:meth:`~videostyle.spec.MethodSpec.check`), the command line's ``--method`` choices, the web
page's method picker and the one-pass builder (:func:`~videostyle.methods.one_pass.build_stylizer`) read what a
method takes from here, so that adding a method is one record (and its builder), and an unknown name is an error
everywhere (:func:`method_record`).

>>> method_record("adain").model_kind
'adain_decoder'
>>> [name for name, record in METHODS.items() if record.styles == "none"]
['feedforward', 'reconet']
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import VideostyleError


@dataclass(frozen=True)
class Method:
    """What a method takes and where it runs.

    ``one_pass``: a trained network stylizes each frame in one pass (method style-swap only with a ``model``:
    otherwise it decodes by optimisation). ``styles``: the style images it takes: ``none`` (its model carries the
    style), ``one`` or ``some`` (one or more, blended). ``model_kind``: the kind of model file it runs (None: no
    model), ``default_model`` the bundled one used when none is given. ``optimises``: it optimises the picture
    (frame by frame in video). ``tiles``: its network can run in tiles with the whole picture's statistics (the
    transformer networks). ``precision``: ``precision`` applies (the transformer networks). ``mask``: a mask can
    split a frame between two styles. ``video``: it runs on clips (else on still pictures only). ``page``: its
    label on the web page's picker, which lists them by ``page_order`` (fastest first; None: not offered there).
    """

    name: str
    one_pass: bool
    styles: str
    model_kind: str | None = None
    default_model: str | None = None
    optimises: bool = False
    tiles: bool = False
    precision: bool = False
    mask: bool = False
    video: bool = True
    page: str | None = None
    page_order: int = 0

    def runs_one_pass(self, with_model: bool) -> bool:
        """Whether frames go through a network in one pass: always for the network methods, and for a method that
        optimises but takes a model (style swap's inverse network) when it is given one."""
        return self.one_pass or (with_model and self.model_kind is not None)


METHODS: dict[str, Method] = {
    record.name: record
    for record in (
        Method("optimize", one_pass=False, styles="some", optimises=True, page="Optimisation: best picture, slowest", page_order=5),
        Method(
            "feedforward",
            one_pass=True,
            styles="none",
            model_kind="transformer",
            default_model="starry_night",
            tiles=True,
            precision=True,
            page="Bundled model: fastest, a trained style",
            page_order=1,
        ),
        Method("reconet", one_pass=True, styles="none", model_kind="transformer", default_model="reconet_starry_night", tiles=True, precision=True),
        Method(
            "adain", one_pass=True, styles="some", model_kind="adain_decoder", default_model="adain_decoder", mask=True, page="AdaIN: any style", page_order=4
        ),
        Method(
            "arbitrary-video",
            one_pass=True,
            styles="some",
            model_kind="arbitrary_video",
            default_model="arbitrary_video_corpus",
            tiles=True,
            precision=True,
            mask=True,
            page="Any style, low flicker (arbitrary-video)",
            page_order=2,
        ),
        Method(
            "adapt",
            one_pass=True,
            styles="one",
            tiles=True,
            precision=True,
            page="Adapted network: any style, a network trained for it first (once; cached)",
            page_order=3,
        ),
        Method("style-swap", one_pass=False, styles="some", model_kind="swap_decoder", default_model="swap_decoder", optimises=True),
        Method("faces", one_pass=False, styles="some", optimises=True, video=False),
    )
}


def method_record(name: str) -> Method:
    """The record of method ``name``; any other name is an error that lists the methods."""
    if name not in METHODS:
        raise VideostyleError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}", parameter="method")
    return METHODS[name]


def method_for_kind(kind: str) -> str | None:
    """The method that runs a model file of ``kind`` when no method is named: the first that takes that kind."""
    return next((record.name for record in METHODS.values() if record.model_kind == kind), None)
