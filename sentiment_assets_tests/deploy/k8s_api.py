"""A Kubernetes API server on 127.0.0.1 that accepts Jobs and reports them failed.

It speaks the real REST protocol the `kubernetes` client uses (the same requests a cluster's
API server gets), so dagster-k8s submits its Jobs here exactly as it would to a cluster. Every
Job it receives is kept for the test to inspect; asked for a Job's status it says the Job
failed, which ends the run right after its steps were submitted.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

JOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs(?:/(?P<name>[^/?]+))?")
PODS = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods")


@dataclass
class FakeCluster:
    """What the API server received."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, reason: str) -> None:
            self._send(
                code,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": reason,
                    "code": code,
                },
            )

        def do_POST(self) -> None:
            with cluster.lock:
                cluster.requests.append(f"POST {self.path}")
            match = JOBS.match(self.path)
            if not match:
                self._status(404, "NotFound")
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with cluster.lock:
                cluster.jobs.append(body)
            created = {
                **body,
                "metadata": {
                    **body["metadata"],
                    "namespace": match["ns"],
                    "uid": f"uid-{len(cluster.jobs)}",
                },
            }
            self._send(201, created)

        def do_GET(self) -> None:
            with cluster.lock:
                cluster.requests.append(f"GET {self.path}")
            match = JOBS.match(self.path)
            if match and match["name"]:
                with cluster.lock:
                    found = [j for j in cluster.jobs if j["metadata"]["name"] == match["name"]]
                if not found:
                    self._status(404, "NotFound")
                    return
                self._send(200, {**found[-1], "status": {"failed": 1, "active": 0}})
                return
            if PODS.match(self.path):
                self._send(
                    200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}
                )
                return
            self._status(404, "NotFound")

        def do_DELETE(self) -> None:
            with cluster.lock:
                cluster.requests.append(f"DELETE {self.path}")
            self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    return Handler


@contextmanager
def fake_cluster(kubeconfig: Path, namespace: str) -> Iterator[FakeCluster]:
    """Serve the API on a free loopback port and write a kubeconfig pointing at it."""
    cluster = FakeCluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "test", "user": {"token": "test-token"}}],
                "contexts": [
                    {
                        "name": "test",
                        "context": {"cluster": "test", "user": "test", "namespace": namespace},
                    }
                ],
                "current-context": "test",
            }
        )
    )
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
