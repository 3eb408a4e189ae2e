"""Live style transfer: a camera, a stream or a file in, stylized frames out as they come.

Three threads of work: a reader decodes the source (a file or a stream is paced at its frames' timestamps, as a
camera would deliver it) into a one-frame mailbox, so that a stylizer slower than the source drops frames
instead of falling behind; the stylizer takes the newest frame, runs a one-pass network on it and
publishes the result as a JPEG; the viewers show it: an MJPEG stream on localhost (``--headless``,
:mod:`.mjpeg`) or a window (Tk, :mod:`.window`). ``--record`` writes what was shown at the source's frame rate,
each stylized frame repeated for the source frames it stood for, so the recording keeps real time.

Latency is measured per frame, from the moment the reader had the frame decoded to the moment its
stylized JPEG was ready: what the stylizer adds to a live source.

The frame loop is :mod:`.loop`; the sources and the mailbox :mod:`.sources`.
"""

from .loop import LiveSummary, run_live, stylize_live
from .mjpeg import BOUNDARY, MjpegServer
from .sources import Mailbox, open_source, read_frames

__all__ = ["BOUNDARY", "LiveSummary", "Mailbox", "MjpegServer", "open_source", "read_frames", "run_live", "stylize_live"]
