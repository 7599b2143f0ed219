"""Ensemble quality on the real NSMC test split against two baselines measured in the same run.

Training (the part the 60-minute budget covers, `training_wall_s`):
- lexicon, LSTM and BiLSTM on the whole train split (BENCH_TRAIN_ROWS, default 0 = all 603k
  rows, three classes, class-balanced), LSTM for BENCH_LSTM_EPOCHS and BiLSTM for
  BENCH_BILSTM_EPOCHS with early stopping on dev;
- BERT: masked-LM pre-training of our own small BERT (tokenizer included) for
  BENCH_BERT_PRETRAIN_STEPS steps on train texts, then fine-tuning on BENCH_BERT_ROWS train
  rows: a transformer costs about 20 times a BiLSTM per example on two cores, so it gets a
  slice of the data that fits the budget;
- the ensemble's weights and temperatures, fitted on BENCH_DEV_ROWS dev reviews (never test).
Morphemes are analysed once and shared (SENTIMENT_TOKEN_CACHE is raised for the run).

Training runs in two single-threaded lanes at once, one per core: this process analyses
morphemes and trains the lexicon and the BiLSTM (the members that read morphemes), a spawned
process trains the syllable LSTM and BERT and hands them over as saved models. Measured here, a
second thread speeds none of these up by more than 13% (BiLSTM) and slows the Keras LSTM down.
The lanes slow each other down, though (with 3 epochs the LSTM took 2,927 s in its lane against
1,644 s alone), so on 2026-12-03 they made training about 1.2 times faster, not twice, and 74
minutes long: the LSTM gets 2 epochs by default so that the second lane fits the budget (55
minutes on 2026-12-03, the ensemble 0.0002 lower). The baselines run the same way after the
budget (the seed model in the second lane), and their training times are taken under that
sharing.

Scored on the whole test split: NSMC-binary accuracy on balanced data (argmax of negative vs
positive over ratings 1–4 / 9–10, 50/50), three-class macro-F1 and expected calibration error.
Baselines on the same train rows: char 1–4-gram TF-IDF + logistic regression (binary model on
the balanced binary train rows, three-class model with balanced class weights), and the seed's
Keras BiLSTM rebuilt from its description (see bench/seed_model.py) on BENCH_SEED_ROWS rows.

After the budget, `combination` tells whether a cleverer vote would help: the soft vote refitted
without each member in turn, and a stacker fitted on the same dev rows (see
`_combination_study`). BENCH_KEEP=1 keeps the trained members and their raw probabilities on all
of dev and test under bench/.work/quality, so combinations and single-member variants can be
studied without training everything again.
"""

from __future__ import annotations

import os

os.environ.setdefault("SENTIMENT_TOKEN_CACHE", "1000000")

import multiprocessing
import resource
import shutil
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bench.common import WORK, save
from bench.seed_model import train_seed
from sentiment_assets.lib.corpus.labels import balanced_binary
from sentiment_assets.lib.corpus.load import SHARED_NSMC, CorpusSample, labeled, load_corpus
from sentiment_assets.lib.models.base import LabeledTexts, Member, TrainSettings
from sentiment_assets.lib.models.bert import BertTrainConfig
from sentiment_assets.lib.models.bert import train as train_bert
from sentiment_assets.lib.models.bert.pretrain import PretrainConfig, pretrain
from sentiment_assets.lib.models.ensemble import (
    Ensemble,
    EnsembleFit,
    combine,
    fit_ensemble,
    prepare_texts,
)
from sentiment_assets.lib.models.evaluation import (
    classification_metrics,
    evaluate_prediction,
    nsmc_binary_accuracy,
)
from sentiment_assets.lib.models.members import available_members
from sentiment_assets.lib.text.morphemes import morphemes

TRAIN_ROWS = int(os.environ.get("BENCH_TRAIN_ROWS", "0"))
DEV_ROWS = int(os.environ.get("BENCH_DEV_ROWS", "20000"))
LSTM_EPOCHS = int(os.environ.get("BENCH_LSTM_EPOCHS", "2"))
BILSTM_EPOCHS = int(os.environ.get("BENCH_BILSTM_EPOCHS", "3"))
BERT_ROWS = int(os.environ.get("BENCH_BERT_ROWS", "300000"))
BERT_EPOCHS = int(os.environ.get("BENCH_BERT_EPOCHS", "1"))
BERT_PRETRAIN_STEPS = int(os.environ.get("BENCH_BERT_PRETRAIN_STEPS", "3500"))
SEED_ROWS = int(os.environ.get("BENCH_SEED_ROWS", "100000"))
SEED_EPOCHS = int(os.environ.get("BENCH_SEED_EPOCHS", "3"))
KEEP = os.environ.get("BENCH_KEEP", "") == "1"
"""Keep the trained members and their raw dev/test probabilities under bench/.work/quality."""
BUDGET_S = 3600
MEMBER_BATCH = 256
BERT_BATCH = 64
MAX_LEN = 64
MAIN_LANE = ("lexicon", "bilstm")
"""Members trained in this process: they read the morphemes analysed here."""
SECOND_LANE = ("lstm", "bert")
"""Members trained in the spawned process: syllables and WordPiece need no morphemes."""


@dataclass(frozen=True)
class BenchSplit:
    """The rows every quality study here trains and scores on."""

    frame: pd.DataFrame
    """Train rows (BENCH_TRAIN_ROWS of them), the DEV_ROWS dev sample and the whole test split."""
    train: LabeledTexts
    dev: LabeledTexts
    dev_all: pd.DataFrame
    """Every dev review in corpus order (`dev` is a DEV_ROWS sample of them)."""
    test: pd.DataFrame
    rows: np.ndarray
    """Positions in `test` of the balanced NSMC-binary rows."""
    binary: np.ndarray
    """Their NSMC-binary labels (0 negative, 1 positive)."""


def bench_split(train_rows: int = TRAIN_ROWS) -> BenchSplit:
    """NSMC's train split (sampled when `train_rows` > 0), DEV_ROWS dev reviews, all of test."""
    frame = load_corpus(str(SHARED_NSMC), CorpusSample(train=train_rows or None, evaluation=None))
    dev_all = pd.DataFrame(frame[frame["split"] == "dev"]).reset_index(drop=True)
    dev_frame = frame[frame["split"] == "dev"].sample(n=DEV_ROWS, random_state=13)
    frame = pd.DataFrame(pd.concat([frame[frame["split"] != "dev"], dev_frame]))
    test = pd.DataFrame(frame[frame["split"] == "test"]).reset_index(drop=True)
    balanced = balanced_binary(test)
    return BenchSplit(
        frame=frame,
        train=labeled(frame, "train"),
        dev=labeled(frame, "dev"),
        dev_all=dev_all,
        test=test,
        rows=test.index.get_indexer(balanced.index),
        binary=balanced["nsmc_binary"].to_numpy(dtype=np.int64),
    )


def fit_soft_vote(
    dev_probs: dict[str, np.ndarray], labels: np.ndarray, weights: np.ndarray | None
) -> EnsembleFit:
    """The ensemble's weights and temperatures fitted on dev, from the design's initial weights."""
    specs = available_members(list(dev_probs))
    return fit_ensemble(
        dev_probs,
        labels,
        initial_weights={n: specs[n].initial_weight for n in dev_probs},
        vocabulary_hashes={},
        member_versions={n: "bench" for n in dev_probs},
        sample_weights=weights,
    )


def soft_vote_accuracy(
    fit: EnsembleFit, test_probs: dict[str, np.ndarray], split: BenchSplit
) -> float:
    """NSMC-binary accuracy of the fitted soft vote on the balanced test rows."""
    proba, _, _ = combine({n: test_probs[n] for n in fit.refs}, fit.refs, fit.temperature)
    return nsmc_binary_accuracy(proba[split.rows], split.binary)


def _binary_figures(proba: np.ndarray, test: pd.DataFrame, rows: np.ndarray, binary: np.ndarray):
    figures = classification_metrics(proba, test["label"].to_numpy())
    return {
        "nsmc_binary_accuracy": nsmc_binary_accuracy(proba[rows], binary),
        "macro_f1": figures["macro_f1"],
        "accuracy_3class": figures["accuracy"],
        "ece": figures["ece"],
    }


def subset(data: LabeledTexts, n: int, seed: int = 13) -> LabeledTexts:
    """`n` rows of `data` drawn at random in their original order; all of it when n <= 0."""
    if n <= 0 or n >= len(data.texts):
        return data
    rows = np.sort(np.random.default_rng(seed).choice(len(data.texts), size=n, replace=False))
    return LabeledTexts(
        texts=[data.texts[i] for i in rows],
        labels=data.labels[rows],
        weights=None if data.weights is None else data.weights[rows],
    )


def _single_thread() -> None:
    """One compute thread for torch, TensorFlow and BLAS in this process (one lane, one core)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    threadpool_limits(1)


def _lane_worker() -> None:
    """A spawned lane's initializer: one compute thread for torch, BLAS and TensorFlow too."""
    import tensorflow as tf

    _single_thread()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _train_one(
    name: str, train: LabeledTexts, dev: LabeledTexts, figures: dict[str, Any], work: Path
) -> Member:
    base = TrainSettings(batch_size=MEMBER_BATCH, device="cpu", max_len=MAX_LEN)
    t0 = time.perf_counter()
    if name == "bert":
        bert_train = subset(train, BERT_ROWS)
        pre_settings = replace(base, batch_size=BERT_BATCH, epochs=1)
        checkpoint = pretrain(
            train.texts,
            pre_settings,
            PretrainConfig(steps=BERT_PRETRAIN_STEPS, max_passes=None),
            work / "bert_pretrained",
        )
        figures["bert_pretrain_s"] = round(time.perf_counter() - t0, 1)
        figures["bert_pretrain_steps"] = BERT_PRETRAIN_STEPS
        figures["bert_train_rows"] = len(bert_train.texts)
        config = BertTrainConfig(base_checkpoint=str(checkpoint), use_pretrained_asset=False)
        settings = replace(base, batch_size=BERT_BATCH, epochs=BERT_EPOCHS)
        member = train_bert(bert_train, dev, settings, config)
    else:
        epochs = {"lstm": LSTM_EPOCHS, "bilstm": BILSTM_EPOCHS}.get(name, 1)
        spec = available_members([name])[name]
        member = spec.train(train, dev, replace(base, epochs=epochs))
    figures[f"{name}_train_s"] = round(time.perf_counter() - t0, 1)
    print(f"trained {name} in {figures[f'{name}_train_s']} s", flush=True)
    return member


def _second_lane(train: LabeledTexts, dev: LabeledTexts, work: str) -> dict[str, Any]:
    """Train SECOND_LANE in this (spawned) process and save each under `work`/<name>."""
    figures: dict[str, Any] = {}
    for name in SECOND_LANE:
        member = _train_one(name, train, dev, figures, Path(work))
        (Path(work) / name).mkdir()
        member.save(Path(work) / name)
    return figures


def _seed_lane(
    train: LabeledTexts, dev: LabeledTexts, texts: list[str]
) -> tuple[np.ndarray, float, int]:
    """The seed baseline in the second lane: test probabilities, training seconds, epochs."""
    seed = train_seed(train.texts, train.labels, dev.texts, dev.labels, epochs=SEED_EPOCHS)
    return seed.predict_proba(texts), seed.train_seconds, seed.epochs_run


def _spawned() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_lane_worker
    )


def _train_members(
    train: LabeledTexts, dev: LabeledTexts, figures: dict[str, Any], work: Path
) -> dict[str, Member]:
    with _spawned() as pool:
        second: Future[dict[str, Any]] = pool.submit(_second_lane, train, dev, str(work))
        _single_thread()
        t0 = time.perf_counter()
        morphemes(train.texts + dev.texts)
        figures["morpheme_analysis_s"] = round(time.perf_counter() - t0, 1)
        members = {name: _train_one(name, train, dev, figures, work) for name in MAIN_LANE}
        figures["main_lane_s"] = round(time.perf_counter() - t0, 1)
        figures |= second.result()
    figures["second_lane_s"] = round(sum(figures[f"{n}_train_s"] for n in SECOND_LANE), 1)
    specs = available_members()
    for name in SECOND_LANE:
        members[name] = specs[name].load(work / name)
    torch.set_num_threads(os.cpu_count() or 1)
    return {name: members[name] for name in specs if name in members}


def _tfidf_baselines(
    frame: pd.DataFrame,
    test: pd.DataFrame,
    balanced: pd.DataFrame,
    rows: np.ndarray,
    binary: np.ndarray,
) -> dict[str, Any]:
    """Char 1-4-gram TF-IDF + logistic regression: binary on balanced train, then 3-class."""
    figures: dict[str, Any] = {}
    _single_thread()
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
    figures["tfidf_lr_nsmc_binary_accuracy"] = float(np.mean(predicted == binary))
    figures["tfidf_lr_binary_train_rows"] = len(train_binary)
    figures["tfidf_lr_binary_train_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    vectorizer3 = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True
    )
    x3 = vectorizer3.fit_transform(train_frame["text"])
    model3 = LogisticRegression(C=2.0, max_iter=1000, class_weight="balanced")
    model3.fit(x3, np.asarray(train_frame["label"], dtype=np.int64))
    proba3 = model3.predict_proba(vectorizer3.transform(test["text"]))
    tfidf3 = classification_metrics(proba3, test["label"].to_numpy())
    figures["tfidf_lr_3class_nsmc_binary_accuracy"] = nsmc_binary_accuracy(proba3[rows], binary)
    figures["tfidf_lr_macro_f1"] = tfidf3["macro_f1"]
    figures["tfidf_lr_ece"] = tfidf3["ece"]
    figures["tfidf_lr_3class_train_s"] = round(time.perf_counter() - t0, 1)
    print("tfidf done", flush=True)
    return figures


def _combination_study(
    dev: LabeledTexts,
    dev_probs: dict[str, np.ndarray],
    test_probs: dict[str, np.ndarray],
    split: BenchSplit,
) -> dict[str, Any]:
    """How much combining can still give: the soft vote without each member, and a stacker.

    Outside the budget and outside the product. The stacker (multinomial logistic regression on
    every member's log-probabilities, fitted on the same dev rows as the soft vote) may weigh
    each class of each member on its own, so it bounds what a cleverer vote over these members
    would reach; if it stays near the soft vote, only better members lift the ensemble.
    """
    names = list(dev_probs)
    out: dict[str, Any] = {"soft_vote_without": {}}
    for left_out in names:
        kept = {n: dev_probs[n] for n in names if n != left_out}
        fit = fit_soft_vote(kept, dev.labels, dev.weights)
        out["soft_vote_without"][left_out] = soft_vote_accuracy(fit, test_probs, split)

    def log_probs(probs: dict[str, np.ndarray]) -> np.ndarray:
        return np.hstack([np.log(np.clip(probs[n], 1e-7, 1.0)) for n in names])

    stacker = LogisticRegression(C=1.0, max_iter=2000)
    stacker.fit(log_probs(dev_probs), dev.labels, sample_weight=dev.weights)
    stacked = stacker.predict_proba(log_probs(test_probs))
    out["stacked_lr_nsmc_binary_accuracy"] = nsmc_binary_accuracy(stacked[split.rows], split.binary)
    return out


def member_probs(members: dict[str, Member], texts: list[str]) -> dict[str, np.ndarray]:
    """Each member's raw probabilities for `texts`, screened as the ensemble screens them."""
    prepared, _ = prepare_texts(texts)
    return {name: member.predict_proba(prepared) for name, member in members.items()}


def _keep_for_study(
    members: dict[str, Member], split: BenchSplit, test_probs: dict[str, np.ndarray], work: Path
) -> None:
    """Save the members, BERT's pre-trained checkpoint and the members' raw probabilities on
    all of dev and test, for `bench.study_variant`."""
    kept = WORK / "quality"
    if (work / "bert_pretrained").is_dir():
        shutil.rmtree(kept / "bert_pretrained", ignore_errors=True)
        shutil.copytree(work / "bert_pretrained", kept / "bert_pretrained")
    for name, member in members.items():
        target = kept / "members" / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        member.save(target)
    dev_all, test = split.dev_all, split.test
    arrays: dict[str, Any] = {
        "dev_label": dev_all["label"].to_numpy(dtype=np.int64),
        "dev_review_id": dev_all["sentence_id"].to_numpy(dtype=str),
        "test_review_id": test["sentence_id"].to_numpy(dtype=str),
        "fit_dev_review_id": split.frame.loc[split.frame["split"] == "dev", "sentence_id"].to_numpy(
            dtype=str
        ),
    }
    dev_probs = member_probs(members, dev_all["text"].astype(str).tolist())
    arrays |= {f"dev_{name}": p for name, p in dev_probs.items()}
    arrays |= {f"test_{name}": p for name, p in test_probs.items()}
    np.savez(kept / "probs.npz", **arrays)
    print(f"kept members and probabilities in {kept}", flush=True)


def main() -> None:
    if not SHARED_NSMC.is_file():
        raise SystemExit(f"skipped: {SHARED_NSMC} not found")
    started = time.perf_counter()
    split = bench_split()
    frame, test, rows, binary = split.frame, split.test, split.rows, split.binary
    balanced = test.iloc[rows]
    train, dev = split.train, split.dev
    texts = test["text"].tolist()

    figures: dict[str, Any] = {
        "train_rows": len(train.texts),
        "dev_rows": len(dev.texts),
        "test_rows": len(test),
        "test_binary_balanced_rows": len(binary),
        "epochs": {"lstm": LSTM_EPOCHS, "bilstm": BILSTM_EPOCHS, "bert": BERT_EPOCHS},
    }
    training_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_quality.") as work:
        members = _train_members(train, dev, figures, Path(work))
        t0 = time.perf_counter()
        dev_probs = {name: m.predict_proba(dev.texts) for name, m in members.items()}
        fit = fit_soft_vote(dev_probs, dev.labels, dev.weights)
        figures["ensemble_fit_s"] = round(time.perf_counter() - t0, 1)
        figures["training_wall_s"] = round(time.perf_counter() - training_started, 1)
        figures["within_budget"] = figures["training_wall_s"] <= BUDGET_S
        test_probs = member_probs(members, texts)
        if KEEP:
            _keep_for_study(members, split, test_probs, Path(work))
        ensemble = Ensemble(members, fit.refs, fit.temperature, version="bench")
        results = evaluate_prediction(ensemble.predict(texts), test)
        figures["combination"] = _combination_study(dev, dev_probs, test_probs, split)
    for name, r in results.items():
        figures[f"{name}_nsmc_binary_accuracy"] = r["nsmc_binary_accuracy"]
        figures[f"{name}_macro_f1"] = r["macro_f1"]
        figures[f"{name}_ece"] = r["ece"]
    figures["ensemble_weights"] = {n: round(r.weight, 3) for n, r in fit.refs.items()}
    figures["ensemble_temperature"] = round(fit.temperature, 3)
    figures["ensemble_confusion"] = results["ensemble"]["confusion"]
    figures["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    figures["second_lane_peak_rss_gib"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2
    )

    baseline: dict[str, Any] = {}
    seed_train = subset(train, SEED_ROWS)
    with _spawned() as seed_pool:
        seed_run = seed_pool.submit(_seed_lane, seed_train, dev, texts)
        baseline |= _tfidf_baselines(frame, test, balanced, rows, binary)
        seed_proba, seed_seconds, seed_epochs = seed_run.result()
    seed_figures = _binary_figures(seed_proba, test, rows, binary)
    baseline.update({f"seed_bilstm_{k}": v for k, v in seed_figures.items()})
    baseline["seed_bilstm_train_rows"] = len(seed_train.texts)
    baseline["seed_bilstm_train_s"] = round(seed_seconds, 1)
    baseline["seed_bilstm_epochs"] = seed_epochs
    figures["wall_s"] = round(time.perf_counter() - started, 1)

    ens = figures["ensemble_nsmc_binary_accuracy"]
    best = max((n for n in members), key=lambda n: figures[f"{n}_nsmc_binary_accuracy"])
    summary = (
        f"Ensemble NSMC-binary accuracy {ens:.4f} (best member {best} "
        f"{figures[f'{best}_nsmc_binary_accuracy']:.4f}; TF-IDF+LR "
        f"{baseline['tfidf_lr_nsmc_binary_accuracy']:.4f}; seed BiLSTM "
        f"{baseline['seed_bilstm_nsmc_binary_accuracy']:.4f}) on {len(binary):,} balanced test "
        f"reviews; members {list(members)} trained in {figures['training_wall_s'] / 60:.0f} "
        f"min on {len(train.texts):,} train reviews (BERT fine-tuned on "
        f"{figures.get('bert_train_rows', 0):,}), ensemble fitted on {len(dev.texts):,} dev "
        f"reviews, in two single-threaded lanes ({figures['main_lane_s'] / 60:.0f} and "
        f"{figures['second_lane_s'] / 60:.0f} min); a stacker on the same members reaches "
        f"{figures['combination']['stacked_lr_nsmc_binary_accuracy']:.4f}. Seed BiLSTM rebuilt "
        "with Kiwi tokens (Okt needs a JVM this project does not ship)."
    )
    save("bench_quality", figures, baseline, summary)


if __name__ == "__main__":
    main()
