"""The stylized frames shown in a Tk window."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
from PIL import Image

from ..errors import VideostyleError


class TkWindow:
    """A window showing the stylized frames (Tk, from Python's standard library)."""

    def __init__(self, title: str = "videostyle live"):
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise VideostyleError("no display here to open a window on: use --headless to serve the stream on localhost", parameter="mjpeg")
        try:
            import tkinter

            from PIL import ImageTk
        except ImportError:
            raise VideostyleError(
                "a window needs Tk (tkinter and Pillow's ImageTk): use --headless to serve the stream on localhost", parameter="mjpeg"
            ) from None
        try:
            self.root = tkinter.Tk()
        except tkinter.TclError as error:
            raise VideostyleError(f"cannot open a window ({error}): use --headless to serve the stream on localhost", parameter="mjpeg") from None
        self.root.title(title)
        self.closed = False
        self.root.protocol("WM_DELETE_WINDOW", self._close)
        self.label = tkinter.Label(self.root)
        self.label.pack()
        self._image_tk = ImageTk

    def _close(self) -> None:
        self.closed = True

    def show(self, picture: np.ndarray) -> None:
        image = self._image_tk.PhotoImage(Image.fromarray(picture))
        self.label.configure(image=image)
        self.label.image = image  # type: ignore[attr-defined]  # keep a reference, or Tk shows nothing
        self.root.update()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.root.destroy()
