"""The stylized frames served as an MJPEG stream on localhost, with a page that shows it and the rate."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import VideostyleError
from .sources import OPEN_TIMEOUT


class MjpegServer:
    """The stylized stream on ``http://HOST:PORT/``: ``/`` a page showing it, ``/stream.mjpg`` the MJPEG stream
    (multipart/x-mixed-replace), ``/frame.jpg`` the newest frame, ``/stats`` the measures as JSON."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8090):
        self._condition = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self._closed = False
        self.stats: dict = {}
        handler = self._handler()
        try:
            self.server = ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            raise VideostyleError(f"cannot serve on {host}:{port}: {error.strerror or error}", parameter="port") from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-server", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def publish(self, jpeg: bytes, stats: dict) -> None:
        with self._condition:
            self._jpeg, self.stats = jpeg, stats
            self._sequence += 1
            self._condition.notify_all()

    def next_frame(self, after: int, timeout: float = OPEN_TIMEOUT) -> tuple[int, bytes | None]:
        with self._condition:
            self._condition.wait_for(lambda: self._sequence > after or self._closed, timeout)
            return self._sequence, self._jpeg

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: the command prints its own summary
                pass

            def do_GET(self) -> None:
                if self.path == "/":
                    body = PAGE.encode()
                    self._send(200, "text/html; charset=utf-8", body)
                elif self.path == "/stats":
                    self._send(200, "application/json", json.dumps(owner.stats).encode())
                elif self.path == "/frame.jpg":
                    _, jpeg = owner.next_frame(-1, timeout=0)
                    self._send(200, "image/jpeg", jpeg) if jpeg else self._send(503, "text/plain", b"no frame yet")
                elif self.path == "/stream.mjpg":
                    self._stream()
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                sequence = 0
                try:
                    while not owner._closed:
                        sequence, jpeg = owner.next_frame(sequence)
                        if jpeg is None or owner._closed:
                            continue
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the viewer went away

        return Handler


BOUNDARY = "videostyleframe"
PAGE = """<!doctype html><title>videostyle live</title>
<body style="margin:0;background:#111;color:#ddd;font:14px sans-serif">
<img src="/stream.mjpg" style="display:block;max-width:100vw;max-height:94vh;margin:auto">
<p id="stats" style="text-align:center"></p>
<script>setInterval(async()=>{const s=await (await fetch('/stats')).json();
document.getElementById('stats').textContent=`${s.frames_per_second} frames/s, latency ${s.latency_ms} ms, ${s.shown} shown, ${s.dropped} dropped`},1000)</script>
"""
