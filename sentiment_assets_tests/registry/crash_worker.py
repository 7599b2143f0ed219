"""Run by test_crash in a subprocess: train and gate, but stop dead at a chosen point.

`python -m sentiment_assets_tests.registry.crash_worker STAGE TMP` prints PAUSED and sleeps at
STAGE, so the test can SIGKILL it exactly there:
- `ensemble-save`: inside the atomic save, with part of the ensemble's files written;
- `registered`: the version is registered but the gate has not moved any alias yet.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from sentiment_assets.lib.lakehouse import Lakehouse
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.registry.store import ModelRegistry
from sentiment_assets_tests.registry.helpers import seed_base_corpus, train_and_gate


def _pause() -> None:
    print("PAUSED", flush=True)
    time.sleep(600)


def main(stage: str, tmp: Path) -> None:
    """Train a second version in `tmp`'s lake and models folder, pausing at `stage`."""
    if stage == "ensemble-save":
        original_save = Ensemble.save

        def save(self: Ensemble, directory: Path) -> None:
            original_save(self, directory)
            _pause()

        Ensemble.save = save  # type: ignore[method-assign]
    elif stage == "registered":

        def stop(self: ModelRegistry, *args: Any, **kwargs: Any) -> None:
            _pause()

        ModelRegistry.promote = stop  # type: ignore[method-assign, assignment]
        ModelRegistry.keep_as_challenger = stop  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    lakehouse = Lakehouse(tmp / "warehouse")
    (tmp / "worker").mkdir(exist_ok=True)
    frame = seed_base_corpus(lakehouse, tmp / "worker")
    train_and_gate(lakehouse, tmp / "models", frame, margin=-1.0)
    raise SystemExit("the worker should have been killed before finishing")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
