"""`sentiment serve` as people start it: no token, no server; else it serves on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sentiment_assets.cli.main import main
from sentiment_assets.lib.serving.settings import TOKEN_ENV
from sentiment_assets_tests.feedback.helpers import TOKEN, train_ensemble


def test_serve_without_a_token_exits_2_and_says_which_variable(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["serve", "--port", "0"]) == 2
    assert TOKEN_ENV in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_on_127_0_0_1_with_the_trained_model(warehouse: Path, tmp_path: Path) -> None:
    version = train_ensemble(tmp_path / "models")  # SENTIMENT_MODELS of the fixture
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sentiment_assets.cli.main", "serve", "--port", str(port)],
            env=os.environ | {TOKEN_ENV: TOKEN},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                health = httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "sentiment serve did not answer in 60 s"
                time.sleep(0.2)
        assert health.json()["model_version"] == version
        assert httpx.get(f"{url}/docs", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {TOKEN}"}
        body = {"text": "좋다", "new_label": "긍정", "reviewer": "eve", "idempotency_key": "cli"}
        assert httpx.post(f"{url}/feedback", json=body, headers=auth).status_code == 201
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl+C sends: uvicorn shuts down cleanly
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()
    assert f"API docs: http://127.0.0.1:{port}/docs" in log.read_text()
