"""Incremental retraining vs a full retrain: wall time and accuracy side by side, same run.

On the real NSMC corpus (../shared/data/nsmc_reviews.parquet):
1. a champion is trained from scratch on BENCH_BASE_ROWS train rows (default 4,000) and
   registered (the state before a new chunk arrives);
2. a "new chunk" of BENCH_NEW_ROWS (default 1,000) held-out train rows stands in for a labeled
   chunk of posts, and BENCH_FEEDBACK_ROWS (default 100) further held-out rows for human
   corrections (weighted 3x);
3. incremental: `lib/retraining/run.retrain` — lexicon blended into the champion's, LSTM fully
   retrained, BiLSTM partially retrained from the champion (frozen embedding), BERT fine-tuned
   from the champion — on the new rows + corrections + a 1:1 base-corpus sample, then the gate;
4. full (the baseline): every member from scratch on base + new + corrections, the same epochs.

Both ensembles are fitted on the same dev rows and scored on the same BENCH_TEST_ROWS test rows
(default 2,000): three-class accuracy, macro-F1 and NSMC-binary accuracy. Members:
BENCH_MEMBERS (default lexicon,lstm,bilstm; BERT's from-scratch pre-training does not fit the
time budget on CPU: add it on a GPU machine), one epoch, BENCH_DEV_ROWS dev rows (default
500). Wall time covers every member's training (morpheme analysis included, its cache cleared
before each stage so no stage reuses another's analyses), the ensemble fit and, for the
incremental round, registration and the gate; CPU time (this process, all threads) is
reported beside it because other work on a shared machine inflates wall time unevenly. Texts
are cut to BENCH_MAX_LEN tokens (default 48, as in the demo). The defaults keep the run near 15
minutes on 2 busy cores; the saving grows with the base corpus, since the incremental set is
about twice the new data while the full set is everything.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import WORK, save
from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus
from sentiment_assets.lib.models.base import LabeledTexts, TrainSettings
from sentiment_assets.lib.models.ensemble import Ensemble
from sentiment_assets.lib.models.evaluation import evaluate_prediction
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
from sentiment_assets.lib.registry.evalset import EvaluationSet, corpus_part, in_gate_half
from sentiment_assets.lib.registry.gate import register_and_gate
from sentiment_assets.lib.registry.store import tracking_uri_for
from sentiment_assets.lib.retraining.data import mix_training_data
from sentiment_assets.lib.retraining.run import retrain
from sentiment_assets.lib.text.morphemes import clear_cache

BASE_ROWS = int(os.environ.get("BENCH_BASE_ROWS", "4000"))
NEW_ROWS = int(os.environ.get("BENCH_NEW_ROWS", "1000"))
FEEDBACK_ROWS = int(os.environ.get("BENCH_FEEDBACK_ROWS", "100"))
DEV_ROWS = int(os.environ.get("BENCH_DEV_ROWS", "500"))
TEST_ROWS = int(os.environ.get("BENCH_TEST_ROWS", "2000"))
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "1"))
MEMBERS = os.environ.get("BENCH_MEMBERS", "lexicon,lstm,bilstm").split(",")
DEVICE = os.environ.get("BENCH_DEVICE", "auto")
MAX_LEN = int(os.environ.get("BENCH_MAX_LEN", "48"))
SEED = 13


def _quality(ensemble: Ensemble, test: pd.DataFrame) -> dict[str, float]:
    figures = evaluate_prediction(ensemble.predict(test["text"].tolist()), test, seed=SEED)
    found = figures["ensemble"]
    return {
        "accuracy_3class": round(float(found["accuracy"]), 4),
        "macro_f1": round(float(found["macro_f1"]), 4),
        "nsmc_binary_accuracy": round(float(found["nsmc_binary_accuracy"]), 4),
    }


def _train_all(
    data: LabeledTexts,
    dev: LabeledTexts,
    settings: TrainSettings,
    models: Path,
) -> tuple[Ensemble, Any, dict[str, float], float]:
    """Every member from scratch on `data`, then the ensemble; (ensemble, saved, seconds, wall)."""
    uri = tracking_uri_for(models)
    clear_cache()
    started = time.perf_counter()
    dirs, seconds = {}, {}
    for name, spec in available_members(MEMBERS).items():
        saved = train_member(
            spec, data, dev, settings, models_root=models, tracking_uri=uri, snapshot_id=None
        )
        dirs[name] = saved.path
        seconds[name] = round(float(saved.manifest.metrics["train_seconds"]), 2)
    ensemble, saved = build_ensemble(
        dev, models_root=models, tracking_uri=uri, snapshot_id=None, member_dirs=dirs
    )
    return ensemble, saved, seconds, time.perf_counter() - started


def main() -> None:
    """Measure and save."""
    if not SHARED_NSMC.is_file():
        raise SystemExit(f"{SHARED_NSMC} not found: this benchmark needs the NSMC corpus")
    work = WORK / "retrain_cost"
    shutil.rmtree(work, ignore_errors=True)
    models = work / "models"
    frame = load_corpus(
        str(SHARED_NSMC),
        CorpusSample(train=BASE_ROWS + NEW_ROWS + FEEDBACK_ROWS, evaluation=None, seed=SEED),
    )
    train = frame.loc[frame["split"] == "train"].sample(frac=1.0, random_state=SEED)
    base = pd.DataFrame(train.iloc[:BASE_ROWS])
    new = pd.DataFrame(train.iloc[BASE_ROWS : BASE_ROWS + NEW_ROWS])
    corrections = pd.DataFrame(train.iloc[BASE_ROWS + NEW_ROWS :])
    dev_all = pd.DataFrame(frame.loc[frame["split"] == "dev"])
    dev_frame = dev_all.loc[~in_gate_half(dev_all["sentence_id"])].head(DEV_ROWS)
    gate_frame = corpus_part(pd.DataFrame(dev_all[["sentence_id", "text", "label"]]), DEV_ROWS)
    test = (
        frame.loc[frame["split"] == "test"]
        .sample(n=TEST_ROWS, random_state=SEED)
        .reset_index(drop=True)
    )
    dev = labeled(dev_frame, "dev")
    evaluation = EvaluationSet(
        data=LabeledTexts(
            texts=gate_frame["text"].astype(str).tolist(),
            labels=gate_frame["label"].to_numpy(np.int64),
        ),
        parts={"base_corpus_dev": len(gate_frame)},
    )
    settings = TrainSettings(epochs=EPOCHS, device=DEVICE, seed=SEED, max_len=MAX_LEN)  # type: ignore[arg-type]

    # 1. The champion before the new chunk: trained from scratch on the base rows.
    champion, champion_saved, champion_seconds, champion_wall = _train_all(
        labeled(base, "train"), dev, settings, models
    )
    register_and_gate(
        champion,
        models_root=models,
        run_id=champion_saved.run_id,
        evaluation=evaluation,
        snapshot_id=None,
        metrics=champion_saved.manifest.metrics,
    )

    # 2. Incremental: the new chunk + corrections (3x) + a 1:1 base sample, member strategies.
    mix = mix_training_data(
        new.assign(board_id=1, post_id=range(len(new))),
        corrections.assign(feedback_id=range(1, len(corrections) + 1), board_id=None, post_id=None),
        base,
        seed=SEED,
    )
    clear_cache()
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = retrain(
        mix,
        dev,
        evaluation,
        models_root=models,
        tracking_uri=tracking_uri_for(models),
        snapshot_id=None,
        settings=settings,
        names=MEMBERS,
    )
    incremental_wall = time.perf_counter() - started
    incremental_cpu = time.process_time() - cpu_started

    # 3. Full: every member from scratch on everything seen so far.
    everything = pd.concat([base, new, corrections])
    weights = np.concatenate([np.ones(len(base) + len(new)), np.full(len(corrections), 3.0)])
    full_data = labeled(everything, "train")
    full_data = LabeledTexts(
        texts=full_data.texts,
        labels=full_data.labels,
        weights=(full_data.weights if full_data.weights is not None else 1.0) * weights,
    )
    cpu_started = time.process_time()
    full, _, full_seconds, full_wall = _train_all(full_data, dev, settings, models)
    full_cpu = time.process_time() - cpu_started

    incremental_quality = _quality(result.ensemble, test)
    full_quality = _quality(full, test)
    champion_quality = _quality(champion, test)
    saving = 1.0 - incremental_wall / full_wall
    cpu_saving = 1.0 - incremental_cpu / full_cpu
    figures = {
        "members": MEMBERS,
        "epochs": EPOCHS,
        "max_len": MAX_LEN,
        "rows": {
            "base_train": BASE_ROWS,
            "new_chunk": NEW_ROWS,
            "feedback": FEEDBACK_ROWS,
            "incremental_training_set": len(mix.data.texts),
            "full_training_set": len(full_data.texts),
            "dev": len(dev.texts),
            "gate": len(evaluation.data.texts),
            "test": len(test),
        },
        "incremental": {
            "wall_s": round(incremental_wall, 1),
            "cpu_s": round(incremental_cpu, 1),
            "member_train_s": {n: round(s, 2) for n, s in result.member_seconds.items()},
            "strategies": result.modes,
            "gate": {"promoted": result.gate.promoted, "reason": result.gate.reason},
            "test": incremental_quality,
        },
        "full": {
            "wall_s": round(full_wall, 1),
            "cpu_s": round(full_cpu, 1),
            "member_train_s": full_seconds,
            "test": full_quality,
        },
        "champion_before": {
            "wall_s": round(champion_wall, 1),
            "member_train_s": champion_seconds,
            "test": champion_quality,
        },
        "wall_time_saving": round(saving, 3),
        "cpu_time_saving": round(cpu_saving, 3),
        "accuracy_delta_vs_full": round(
            incremental_quality["accuracy_3class"] - full_quality["accuracy_3class"], 4
        ),
        "macro_f1_delta_vs_full": round(
            incremental_quality["macro_f1"] - full_quality["macro_f1"], 4
        ),
    }
    save(
        "bench_retrain_cost",
        figures,
        {"full_retrain": figures["full"]},
        f"incremental retrain {incremental_wall:.0f} s wall / {incremental_cpu:.0f} s CPU vs full "
        f"{full_wall:.0f} s / {full_cpu:.0f} s ({saving:.0%} less wall, {cpu_saving:.0%} less "
        f"CPU time); 3-class accuracy {incremental_quality['accuracy_3class']}"
        f" vs {full_quality['accuracy_3class']}, macro-F1 {incremental_quality['macro_f1']} vs "
        f"{full_quality['macro_f1']} on {len(test)} NSMC test rows (members {','.join(MEMBERS)})",
    )


if __name__ == "__main__":
    main()
