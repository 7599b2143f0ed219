"""Posts per second for each member, the ensemble and the seed pipeline, over batch sizes.

Every figure includes tokenization from cold (the morpheme cache is cleared before each pass)
and is taken on NSMC-length texts (2,000 test reviews). Each model is measured in a fresh
process so its peak resident memory (VmHWM: model, Kiwi and Python included) is its own.
Members are trained quickly first (BENCH_THROUGHPUT_TRAIN_ROWS, default 5,000): speed does not
depend on how well they were trained.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import WORK, save
from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus

TEXTS = 2_000
BATCH_SIZES = (1, 16, 128, 1024)
SINGLE_LIMIT = 300
"""Texts timed at batch size 1 (one call per text is slow for the neural members)."""
TRAIN_ROWS = int(os.environ.get("BENCH_THROUGHPUT_TRAIN_ROWS", "5000"))
ROOT = WORK / "throughput"


def _corpus() -> Any:
    return load_corpus(str(SHARED_NSMC), CorpusSample(train=TRAIN_ROWS, evaluation=TEXTS, seed=7))


def _prepare() -> list[str]:
    from bench.seed_model import train_seed
    from sentiment_assets.lib.models.base import TrainSettings
    from sentiment_assets.lib.models.members import available_members
    from sentiment_assets.lib.models.pipeline import build_ensemble, train_member

    shutil.rmtree(ROOT, ignore_errors=True)
    models = ROOT / "models"
    frame = _corpus()
    train, dev = labeled(frame, "train"), labeled(frame, "dev")
    uri = f"sqlite:///{models / 'mlflow.db'}"
    names = list(available_members())
    for spec in available_members().values():
        train_member(
            spec,
            train,
            dev,
            TrainSettings(epochs=1, device="cpu"),
            models_root=models,
            tracking_uri=uri,
            snapshot_id=None,
        )
    build_ensemble(dev, models_root=models, tracking_uri=uri, snapshot_id=None)
    seed = train_seed(train.texts, train.labels, dev.texts[:500], dev.labels[:500], epochs=1)
    seed.model.save(ROOT / "seed.keras")
    (ROOT / "seed_vocab.json").write_text(json.dumps(seed.vocab, ensure_ascii=False))
    test = frame[frame["split"] == "test"]["text"].tolist()
    (ROOT / "texts.json").write_text(json.dumps(test, ensure_ascii=False))
    return [*names, "ensemble", "seed"]


def _measure(target: str) -> dict[str, Any]:
    from sentiment_assets.lib.models.ensemble import load_current
    from sentiment_assets.lib.text.morphemes import clear_cache

    texts: list[str] = json.loads((ROOT / "texts.json").read_text())
    if target == "seed":
        import keras

        from bench.seed_model import SeedModel

        seed = SeedModel(
            vocab=json.loads((ROOT / "seed_vocab.json").read_text()),
            model=keras.models.load_model(ROOT / "seed.keras"),
        )

        def run(batch: list[str]) -> None:
            seed.predict_proba(batch, batch_size=len(batch))

    else:
        ensemble = load_current(ROOT / "models")
        if target == "ensemble":

            def run(batch: list[str]) -> None:
                ensemble.predict(batch)

        else:
            member = ensemble.members[target]

            def run(batch: list[str]) -> None:
                member.predict_proba(batch)

    run(texts[-50:])  # load lazily-initialised parts (Kiwi, graph tracing) outside the timing
    figures: dict[str, Any] = {}
    for size in BATCH_SIZES:
        chunk = texts[:SINGLE_LIMIT] if size == 1 else texts
        clear_cache()
        started = time.perf_counter()
        for i in range(0, len(chunk), size):
            run(chunk[i : i + size])
        figures[str(size)] = round(len(chunk) / (time.perf_counter() - started), 1)
    figures["peak_rss_mib"] = _peak_rss_mib()
    return figures


def _peak_rss_mib() -> float:
    # VmHWM belongs to this process's own address space; ru_maxrss would carry the parent's
    # high-water mark across fork + exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    if not SHARED_NSMC.is_file():
        raise SystemExit(f"skipped: {SHARED_NSMC} not found")
    targets = _prepare()
    figures: dict[str, Any] = {"texts": TEXTS, "batch_sizes": list(BATCH_SIZES)}
    baseline: dict[str, Any] = {}
    texts = json.loads((ROOT / "texts.json").read_text())
    figures["mean_chars"] = round(float(np.mean([len(t) for t in texts])), 1)
    for target in targets:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.bench_throughput", "--measure", target],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        measured = json.loads(proc.stdout.strip().splitlines()[-1])
        print(target, measured, flush=True)
        sink = baseline if target == "seed" else figures
        prefix = "seed_pipeline" if target == "seed" else target
        for key, value in measured.items():
            name = (
                f"{prefix}_peak_rss_mib"
                if key == "peak_rss_mib"
                else f"{prefix}_posts_per_s_b{key}"
            )
            sink[name] = value
    best = max(v for k, v in figures.items() if k.startswith("ensemble_posts_per_s"))
    figures["ensemble_best_posts_per_s"] = best
    figures["ensemble_target_500_met"] = best >= 500
    summary = (
        f"Posts per second on {TEXTS:,} NSMC test reviews (mean {figures['mean_chars']} "
        f"characters), tokenization from cold included, batch sizes {list(BATCH_SIZES)} (batch 1 "
        f"on the first {SINGLE_LIMIT}); members {targets[:-2]}; each model in its own process "
        "for its peak RSS. Baseline: the seed pipeline (Kiwi tokens in place of Okt + the "
        "seed's two-layer BiLSTM)."
    )
    save("bench_throughput", figures, baseline, summary)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(_measure(sys.argv[2])))
    else:
        main()
