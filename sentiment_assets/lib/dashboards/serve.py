"""Serve the built site on 127.0.0.1 with HTTP Range support.

DuckDB-WASM reads the site's Parquet files with Range requests; Python's plain
`SimpleHTTPRequestHandler` ignores Range, so the browser would log "fall back to full HTTP
read" for every file and download each one whole. This handler answers single byte ranges
with 206 Partial Content, and everything else as the standard handler does.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from one folder, with single-range `Range: bytes=a-b` support."""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the dashboards make dozens of requests per page."""

    def end_headers(self) -> None:
        """Advertise ranges so DuckDB-WASM uses them."""
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self) -> Any:
        """Answer a satisfiable single byte range with 206; otherwise the standard response."""
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        match = _RANGE.match(header.strip()) if header else None
        if match is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, last = match.groups()
        if first == "":  # the last N bytes
            start, end = max(size - int(last or 0), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            self.send_response(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        handle = path.open("rb")
        handle.seek(start)
        self.send_response(http.HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self._range_left = end - start + 1
        return handle

    def copyfile(self, source: Any, outputfile: Any) -> None:
        """Copy only the requested range when one was served."""
        left = getattr(self, "_range_left", None)
        if left is None:
            super().copyfile(source, outputfile)
            return
        while left > 0:
            chunk = source.read(min(left, 64 * 1024))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)


class QuietServer(http.server.ThreadingHTTPServer):
    """A threading server that does not print tracebacks for clients that hung up."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore a browser cancelling a fetch mid-transfer; report anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)


def make_server(build_dir: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A server for `build_dir` bound to 127.0.0.1 (port 0 picks a free one); not started.

    Raises:
        FileNotFoundError: `build_dir` has no index.html (the site was not built).
    """
    if not (build_dir / "index.html").is_file():
        raise FileNotFoundError(
            f"{build_dir} has no index.html: run `sentiment dashboards build` first."
        )
    handler = functools.partial(RangeRequestHandler, directory=os.fspath(build_dir))
    return QuietServer(("127.0.0.1", port), handler)


def serve_in_thread(build_dir: Path, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start serving `build_dir` in a daemon thread; returns the server and its base URL."""
    server = make_server(build_dir, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, bound_port = server.server_address[:2]
    return server, f"http://{host}:{bound_port}"
