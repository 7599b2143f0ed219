"""Ensemble quality on the real NSMC test split against two baselines measured in the same run.

Trains every registered member on a sample of the train split (BENCH_TRAIN_ROWS, default
30,000), fits the ensemble's weights and temperatures on a dev sample (BENCH_DEV_ROWS, default
4,000), and scores the whole test split: NSMC-binary accuracy on balanced data (argmax of
negative vs positive over ratings 1–4 / 9–10, 50/50), three-class macro-F1 and expected
calibration error. Baselines on the same sample: char 1–4-gram TF-IDF + logistic regression
(binary model on the balanced binary train rows, three-class model with balanced class
weights), and the seed's Keras BiLSTM rebuilt from its description (see bench/seed_model.py).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bench.common import save
from bench.seed_model import train_seed
from sentiment_assets.lib.corpus.labels import balanced_binary
from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus
from sentiment_assets.lib.models.base import TrainSettings
from sentiment_assets.lib.models.ensemble import Ensemble, fit_ensemble
from sentiment_assets.lib.models.evaluation import (
    classification_metrics,
    evaluate_prediction,
    nsmc_binary_accuracy,
)
from sentiment_assets.lib.models.members import available_members

TRAIN_ROWS = int(os.environ.get("BENCH_TRAIN_ROWS", "30000"))
DEV_ROWS = int(os.environ.get("BENCH_DEV_ROWS", "4000"))
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "3"))


def _binary_figures(proba: np.ndarray, test: pd.DataFrame, rows: np.ndarray, binary: np.ndarray):
    figures = classification_metrics(proba, test["label"].to_numpy())
    return {
        "nsmc_binary_accuracy": nsmc_binary_accuracy(proba[rows], binary),
        "macro_f1": figures["macro_f1"],
        "accuracy_3class": figures["accuracy"],
        "ece": figures["ece"],
    }


def _tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, sublinear_tf=True)


def main() -> None:
    if not SHARED_NSMC.is_file():
        raise SystemExit(f"skipped: {SHARED_NSMC} not found")
    started = time.perf_counter()
    frame = load_corpus(str(SHARED_NSMC), CorpusSample(train=TRAIN_ROWS, evaluation=None))
    dev_frame = frame[frame["split"] == "dev"].sample(n=DEV_ROWS, random_state=13)
    frame = pd.DataFrame(pd.concat([frame[frame["split"] != "dev"], dev_frame]))
    test = pd.DataFrame(frame[frame["split"] == "test"]).reset_index(drop=True)
    balanced = balanced_binary(test)
    rows = test.index.get_indexer(balanced.index)
    binary = balanced["nsmc_binary"].to_numpy(dtype=np.int64)
    train, dev = labeled(frame, "train"), labeled(frame, "dev")
    texts = test["text"].tolist()

    figures: dict[str, Any] = {
        "train_rows": len(train.texts),
        "dev_rows": len(dev.texts),
        "test_rows": len(test),
        "test_binary_balanced_rows": len(binary),
    }
    settings = TrainSettings(epochs=EPOCHS, device="cpu")
    members, dev_probs = {}, {}
    specs = available_members()
    for name, spec in specs.items():
        t0 = time.perf_counter()
        member = spec.train(train, dev, settings)
        figures[f"{name}_train_s"] = round(time.perf_counter() - t0, 1)
        members[name] = member
        dev_probs[name] = member.predict_proba(dev.texts)
        print(f"trained {name} in {figures[f'{name}_train_s']} s", flush=True)
    fit = fit_ensemble(
        dev_probs,
        dev.labels,
        initial_weights={n: specs[n].initial_weight for n in members},
        vocabulary_hashes={},
        member_versions={n: "bench" for n in members},
        sample_weights=dev.weights,
    )
    ensemble = Ensemble(members, fit.refs, fit.temperature, version="bench")
    results = evaluate_prediction(ensemble.predict(texts), test)
    for name, r in results.items():
        figures[f"{name}_nsmc_binary_accuracy"] = r["nsmc_binary_accuracy"]
        figures[f"{name}_macro_f1"] = r["macro_f1"]
        figures[f"{name}_ece"] = r["ece"]
    figures["ensemble_weights"] = {n: round(r.weight, 3) for n, r in fit.refs.items()}
    figures["ensemble_temperature"] = round(fit.temperature, 3)
    figures["ensemble_confusion"] = results["ensemble"]["confusion"]

    baseline: dict[str, Any] = {}
    t0 = time.perf_counter()
    train_frame = pd.DataFrame(frame[frame["split"] == "train"])
    train_binary = balanced_binary(train_frame)
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True
    )
    x_binary = vectorizer.fit_transform(train_binary["text"])
    binary_model = LogisticRegression(C=2.0, max_iter=1000)
    binary_model.fit(x_binary, train_binary["nsmc_binary"].to_numpy(dtype=np.int64))
    x_test_binary = vectorizer.transform(balanced["text"])
    predicted = np.asarray(binary_model.predict(x_test_binary))
    baseline["tfidf_lr_nsmc_binary_accuracy"] = float(np.mean(predicted == binary))
    vectorizer3 = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True
    )
    x3 = vectorizer3.fit_transform(train_frame["text"])
    model3 = LogisticRegression(C=2.0, max_iter=1000, class_weight="balanced")
    model3.fit(x3, np.asarray(train_frame["label"], dtype=np.int64))
    proba3 = model3.predict_proba(vectorizer3.transform(test["text"]))
    tfidf3 = classification_metrics(proba3, test["label"].to_numpy())
    baseline["tfidf_lr_macro_f1"] = tfidf3["macro_f1"]
    baseline["tfidf_lr_ece"] = tfidf3["ece"]
    baseline["tfidf_lr_train_s"] = round(time.perf_counter() - t0, 1)
    print("tfidf done", flush=True)

    seed = train_seed(train.texts, train.labels, dev.texts, dev.labels, epochs=EPOCHS)
    seed_proba = seed.predict_proba(texts)
    seed_figures = _binary_figures(seed_proba, test, rows, binary)
    baseline.update({f"seed_bilstm_{k}": v for k, v in seed_figures.items()})
    baseline["seed_bilstm_train_s"] = round(seed.train_seconds, 1)
    baseline["seed_bilstm_epochs"] = seed.epochs_run
    figures["wall_s"] = round(time.perf_counter() - started, 1)

    summary = (
        f"Members {list(members)} trained on {len(train.texts):,} NSMC train reviews (three "
        f"classes, class-balanced), ensemble fitted on {len(dev.texts):,} dev reviews, scored "
        f"on all {len(test):,} test reviews ({len(binary):,} in the balanced binary view). "
        "Baselines on the same sample: char 1–4-gram TF-IDF + logistic regression, and the "
        "seed's BiLSTM rebuilt with Kiwi tokens (Okt needs a JVM this project does not ship)."
    )
    save("bench_quality", figures, baseline, summary)


if __name__ == "__main__":
    main()
