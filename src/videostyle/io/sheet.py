"""A labelled grid of pictures (contact sheets of batches and of the docs scripts): a header line of labels over rows of equal-height cells."""

from __future__ import annotations

import os

from PIL import Image, ImageDraw


def save_labelled_grid(header: list[str], rows: list[list[Image.Image]], height: int, path: str | os.PathLike) -> None:
    """Write ``rows`` (each a list of ``height``-pixel-high images) as a grid, one column per ``header`` label,
    every column as wide as the widest cell."""
    width = max(cell.width for row in rows for cell in row)
    sheet = Image.new("RGB", (width * len(header), 16 + height * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, label in enumerate(header):
        draw.text((column * width + 3, 2), label, fill="black")
    for row_index, cells in enumerate(rows):
        for column, image in enumerate(cells):
            sheet.paste(image, (column * width, 16 + row_index * height))
    sheet.save(path)
