"""`sentiment serve` as people start it, on 127.0.0.1, and what it tells them about who can write.

An older deployment still sets the shared SENTIMENT_API_TOKEN: the server starts, says the
token no longer writes and how to move on, refuses it, and accepts it once an operator has
registered it as a reviewer's with `sentiment reviewers create NAME --adopt-shared-token`.
"""

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
from sentiment_assets.cli.serve import startup_notes
from sentiment_assets.lib.feedback.store import FeedbackStore
from sentiment_assets.lib.serving.settings import TOKEN_ENV, ServingSettings
from sentiment_assets_tests.feedback.helpers import TOKEN, train_ensemble


def test_startup_notes_say_who_can_write(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    settings = ServingSettings(tmp_path, tmp_path / "models", store.path)
    assert startup_notes(settings, store) == [
        "no reviewer has a token yet, so every write is refused: sentiment reviewers create NAME"
    ]
    shared = ServingSettings(tmp_path, tmp_path / "models", store.path, shared_token=TOKEN)
    (note, _) = startup_notes(shared, store)
    assert note.startswith(f"{TOKEN_ENV} is set, but a shared token no longer authorises")
    assert "--adopt-shared-token" in note
    store.create_reviewer("ops", token=TOKEN)
    assert startup_notes(shared, store) == [f"{TOKEN_ENV} is ops's token now; unset {TOKEN_ENV}."]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_on_127_0_0_1_and_the_shared_token_writes_once_adopted(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        body = {"text": "좋다", "new_label": "긍정", "idempotency_key": "cli"}
        refused = httpx.post(f"{url}/feedback", json=body, headers=auth)
        assert refused.status_code == 403 and "--adopt-shared-token" in refused.json()["detail"]
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        assert main(["reviewers", "create", "eve", "--adopt-shared-token"]) == 0
        stored = httpx.post(f"{url}/feedback", json=body, headers=auth)
        assert stored.status_code == 201 and stored.json()["reviewer"] == "eve"
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl+C sends: uvicorn shuts down cleanly
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()
    assert f"API docs: http://127.0.0.1:{port}/docs" in log.read_text()
    assert f"note: {TOKEN_ENV} is set, but a shared token no longer" in log.read_text()
