"""A training run killed midway (SIGKILL) leaves the champion and the registry consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.base import Manifest, versions
from sentiment_assets.lib.models.ensemble import NAME
from sentiment_assets.lib.registry import CHAMPION, ModelRegistry, load_champion
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.registry.helpers import seed_base_corpus, train_and_gate


def _kill_when_paused(proc: subprocess.Popen[str], errors: Path, timeout_s: float = 240.0) -> None:
    """SIGKILL `proc` as soon as it prints PAUSED; fail with its stderr if it never does."""
    paused = threading.Event()
    done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "PAUSED":
                paused.set()
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout_s)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert paused.is_set(), "worker never reached its pause point:\n" + errors.read_text()[-3000:]


@pytest.mark.parametrize("stage", ["ensemble-save", "registered"])
def test_killed_training_leaves_champion_and_registry_consistent(
    lakehouse: Lakehouse, tmp_path: Path, stage: str
) -> None:
    models = tmp_path / "models"
    frame = seed_base_corpus(lakehouse, tmp_path)
    champion = train_and_gate(lakehouse, models, frame).registered

    errors = tmp_path / "worker.err"
    with errors.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sentiment_assets_tests.registry.crash_worker", stage, tmp_path],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        _kill_when_paused(proc, errors)
    assert proc.returncode == -signal.SIGKILL

    registry = ModelRegistry(models)
    assert registry.aliases()[CHAMPION] == champion.number
    assert load_champion(models).version == champion.version
    for registered in registry.versions():
        assert registered.path.is_dir(), registered
    # Every visible version is complete; a half-written one exists only as a hidden staging dir.
    for member in ("lexicon", NAME):
        for directory in versions(models, member):
            assert Manifest.read(directory).version == directory.name
    if stage == "ensemble-save":
        assert len(registry.versions()) == 1
        assert any(p.name.startswith(".") and p.is_dir() for p in (models / NAME).iterdir())
    else:
        assert len(registry.versions()) == 2

    # The next run gates against the untouched champion as if nothing happened.
    after = train_and_gate(lakehouse, models, frame, margin=-1.0)
    assert after.champion_before is not None
    assert after.champion_before.number == champion.number
    assert after.promoted
    assert load_champion(models).version == after.registered.version
