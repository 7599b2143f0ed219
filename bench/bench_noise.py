"""Label refinement against injected noise: are flipped labels found and fixed, and does it pay?

On NSMC's binary reviews (ratings 1–4 부정, 9–10 긍정; ../shared/data/nsmc_reviews.parquet):
1. a training sample gets 20% symmetric label noise (each flipped label moves to the other class);
2. refinement runs as `refined_labels` does, without an LLM: k-fold out-of-sample probabilities
   (lib/refine/oos: TF-IDF char+word n-grams, logistic regression), cleanlab's label-issue flags,
   and the confidence rule against a calibrated ensemble: the lexicon member and TF-IDF logistic
   regression trained on a disjoint clean base sample of BASE reviews (the champion trained on
   base_corpus before this chunk arrived), weighted and temperature-scaled on clean dev reviews by
   lib/models/ensemble. The LSTM/BiLSTM/BERT members take far longer than this benchmark's
   budget to train. Rounds repeat with the rising threshold until lib/refine/convergence says
   stop (at most MAX_ROUNDS); a second pass starts the threshold at 0.9 for comparison;
3. corrections are scored against the clean labels: recall = flipped labels restored, precision
   = changed labels that are now right;
4. the cheap model is retrained on clean, noisy and refined labels and scored on NSMC test
   reviews. Recovered = (refined - noisy) / (clean - noisy) accuracy.

Targets (issue 6): ≥ 60% of flipped labels corrected at ≥ 0.9 precision, and ≥ half the accuracy
lost to noise recovered. The default start threshold (what `refined_labels` runs with) is
reported first, with its own verdict; the 0.9 pass follows with its own, and the two are never
mixed into one "met". The ensemble is a stand-in (two cheap members), and the result says so.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from bench.common import save
from sentiment_assets.lib.corpus.load import SHARED_NSMC, load_corpus
from sentiment_assets.lib.models.base import LABELS, LabeledTexts, TrainSettings
from sentiment_assets.lib.models.ensemble import combine, fit_ensemble
from sentiment_assets.lib.models.lexicon import train as train_lexicon
from sentiment_assets.lib.refine.convergence import (
    ConvergenceSettings,
    ConvergenceTracker,
    RoundMetrics,
)
from sentiment_assets.lib.refine.oos import classifier, out_of_sample, vectorize
from sentiment_assets.lib.refine.rules import CORRECTED, decide, label_indices

TRAIN = 20_000
BASE = int(os.environ.get("BENCH_NOISE_BASE", "200000"))
"""Clean base reviews the ensemble members learn from: the champion's base_corpus share. The
ensemble's confident mistakes are what wrong corrections are made of, so a weak ensemble (50k
base reviews: 0.879 test accuracy) caps precision below what a full champion reaches."""
DEV = 4_000
TEST = 10_000
NOISE = 0.20
MAX_ROUNDS = 4
SEED = 13
NEG, POS = LABELS.index("부정"), LABELS.index("긍정")
DEFAULT_START = ConvergenceSettings().start_threshold
"""The start threshold `refined_labels` uses unless configured otherwise."""


def _binary(frame: pd.DataFrame, split: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = frame.loc[(frame["split"] == split) & frame["nsmc_binary"].notna()]
    rows = rows.loc[rows["text"].astype(str).str.strip() != ""]
    picked = rows.iloc[rng.permutation(len(rows))[:n]]
    return pd.DataFrame(
        {
            "text": picked["text"].astype(str).to_numpy(),
            "label": np.where(picked["nsmc_binary"].astype(int) == 1, POS, NEG),
        }
    )


def _full_proba(model, x, classes: np.ndarray) -> np.ndarray:
    proba = np.zeros((x.shape[0], len(LABELS)))
    proba[:, classes] = model.predict_proba(x)
    return proba


def _test_accuracy(train_x, labels: np.ndarray, test_x, test_labels: np.ndarray) -> float:
    model = classifier(seed=SEED).fit(train_x, labels)
    return float((model.predict(test_x) == test_labels).mean())


def _refine(
    texts: list[str],
    noisy: np.ndarray,
    clean: np.ndarray,
    flipped: np.ndarray,
    ens_label: list[str],
    ens_conf: np.ndarray,
    start_threshold: float,
) -> dict:
    """Refinement rounds from `start_threshold` until convergence (at most MAX_ROUNDS)."""
    tracker = ConvergenceTracker(ConvergenceSettings(start_threshold=start_threshold))
    labels = noisy.copy()
    rounds = []
    seconds = 0.0
    while tracker.next_round <= MAX_ROUNDS:
        t0 = time.perf_counter()
        threshold = tracker.threshold()
        oos = out_of_sample(texts, labels, seed=SEED)
        posts = pd.DataFrame(
            {
                "given_label": [LABELS[i] for i in labels],
                "given_source": "llm",
                "human_label": None,
                "ensemble_label": ens_label,
                "ensemble_confidence": ens_conf,
                "frozen": False,
            }
        )
        decisions = decide(
            posts,
            threshold=threshold,
            oos_proba=oos.proba,
            is_label_issue=oos.is_label_issue,
            label_error_score=oos.label_error_score,
        )
        corrected = (decisions["decision"] == CORRECTED).to_numpy()
        before = labels.copy()
        labels[corrected] = label_indices(decisions.loc[corrected, "new_label"])
        seconds += time.perf_counter() - t0
        changed = int((labels != before).sum())
        oos_accuracy = float((oos.proba.argmax(axis=1) == before).mean())
        decision = tracker.add(
            RoundMetrics(
                round=tracker.next_round,
                score=oos_accuracy,
                score_name="oos_accuracy",
                label_change_rate=changed / len(labels),
            )
        )
        flagged = oos.is_label_issue
        rounds.append(
            {
                "round": tracker.history[-1].round,
                "threshold": threshold,
                "changed": changed,
                "label_issues_flagged": int(flagged.sum()),
                "flagged_that_were_wrong": round(
                    float((before[flagged] != clean[flagged]).mean()) if flagged.any() else 0.0, 4
                ),
                "wrong_that_were_flagged": round(
                    float(flagged[before != clean].mean()) if (before != clean).any() else 0.0, 4
                ),
                "oos_accuracy_vs_given": round(oos_accuracy, 4),
                "labels_wrong_after": int((labels != clean).sum()),
                "converged": decision.converged,
                "stop_reason": decision.reason,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        if decision.converged:
            break
    changed_any = labels != noisy
    precision = (
        float((labels[changed_any] == clean[changed_any]).mean()) if changed_any.any() else 0
    )
    recall = float((flipped & (labels == clean)).sum() / flipped.sum())
    return {
        "labels": labels,
        "rounds": rounds,
        "seconds": seconds,
        "recall": recall,
        "precision": precision,
        "corrections": int(changed_any.sum()),
    }


def main() -> None:
    """Measure and save."""
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    corpus = load_corpus(str(SHARED_NSMC))
    train_pool = _binary(corpus, "train", TRAIN + BASE, rng)
    sample, base = train_pool.iloc[:TRAIN].reset_index(drop=True), train_pool.iloc[TRAIN:]
    dev = _binary(corpus, "dev", DEV, rng)
    test = _binary(corpus, "test", TEST, rng)
    clean = sample["label"].to_numpy()
    flipped = rng.random(len(clean)) < NOISE
    noisy = np.where(flipped, np.where(clean == POS, NEG, POS), clean)

    # The ensemble: two real members trained on clean base data (the champion trained on
    # base_corpus before this chunk arrived), combined and calibrated on clean dev reviews by the
    # pipeline's own fit_ensemble.
    x_all = vectorize([*sample["text"], *base["text"], *dev["text"], *test["text"]])
    n1, n2, n3 = len(sample), len(sample) + len(base), len(sample) + len(base) + len(dev)
    x_sample, x_base, x_dev, x_test = x_all[:n1], x_all[n1:n2], x_all[n2:n3], x_all[n3:]
    classes = np.array([NEG, POS])
    tfidf = classifier(seed=SEED).fit(x_base, base["label"].to_numpy())
    dev_set = LabeledTexts(dev["text"].tolist(), dev["label"].to_numpy())
    lexicon = train_lexicon(
        LabeledTexts(base["text"].tolist(), base["label"].to_numpy()), dev_set, TrainSettings()
    )
    dev_probs = {
        "lexicon": lexicon.predict_proba(dev_set.texts),
        "tfidf": _full_proba(tfidf, x_dev, classes),
    }
    fit = fit_ensemble(
        dev_probs,
        dev_set.labels,
        initial_weights={"lexicon": 0.5, "tfidf": 0.5},
        vocabulary_hashes={},
        member_versions={"lexicon": "bench", "tfidf": "bench"},
    )
    sample_probs = {
        "lexicon": lexicon.predict_proba(sample["text"].tolist()),
        "tfidf": _full_proba(tfidf, x_sample, classes),
    }
    ens_proba, _, _ = combine(sample_probs, fit.refs, fit.temperature)
    ens_label = [LABELS[i] for i in ens_proba.argmax(axis=1)]
    ens_conf = ens_proba.max(axis=1)
    test_probs = {
        "lexicon": lexicon.predict_proba(test["text"].tolist()),
        "tfidf": _full_proba(tfidf, x_test, classes),
    }
    ens_test, _, _ = combine(test_probs, fit.refs, fit.temperature)
    setup_s = time.perf_counter() - started

    default = _refine(
        sample["text"].tolist(), noisy, clean, flipped, ens_label, ens_conf, DEFAULT_START
    )
    strict = _refine(sample["text"].tolist(), noisy, clean, flipped, ens_label, ens_conf, 0.9)
    labels, rounds, refine_s = default["labels"], default["rounds"], default["seconds"]

    changed_any = labels != noisy
    fixed = flipped & (labels == clean)
    precision = (
        float((labels[changed_any] == clean[changed_any]).mean()) if changed_any.any() else 0
    )
    recall = float(fixed.sum() / flipped.sum())
    test_labels = test["label"].to_numpy()
    acc_clean = _test_accuracy(x_sample, clean, x_test, test_labels)
    acc_noisy = _test_accuracy(x_sample, noisy, x_test, test_labels)
    acc_refined = _test_accuracy(x_sample, labels, x_test, test_labels)
    lost = acc_clean - acc_noisy
    recovered = (acc_refined - acc_noisy) / lost if lost > 0 else float("nan")
    acc_strict = _test_accuracy(x_sample, strict["labels"], x_test, test_labels)
    strict_recovered = (acc_strict - acc_noisy) / lost if lost > 0 else float("nan")
    ensemble_test = float((ens_test.argmax(axis=1) == test_labels).mean())
    default_targets = {
        "recall_ge_0.60": recall >= 0.60,
        "precision_ge_0.90": precision >= 0.90,
        "recovered_ge_0.50": bool(recovered >= 0.5),
    }
    strict_targets = {
        "recall_ge_0.60": strict["recall"] >= 0.60,
        "precision_ge_0.90": strict["precision"] >= 0.90,
        "recovered_ge_0.50": bool(strict_recovered >= 0.5),
    }
    default_met, strict_met = all(default_targets.values()), all(strict_targets.values())
    # The default start threshold (what `refined_labels` runs with) comes first; the 0.9 pass is
    # an option a deployment may choose, reported after it and never mixed into its verdict.
    figures = {
        "default_start_threshold": DEFAULT_START,
        "default_targets_met": default_met,
        "default_targets": default_targets,
        "correction_recall": round(recall, 4),
        "correction_precision": round(precision, 4),
        "corrections": int(changed_any.sum()),
        "labels_wrong_before": int(flipped.sum()),
        "labels_wrong_after": int((labels != clean).sum()),
        "test_accuracy_clean": round(acc_clean, 4),
        "test_accuracy_noisy": round(acc_noisy, 4),
        "test_accuracy_refined": round(acc_refined, 4),
        "accuracy_recovered_share": round(recovered, 4),
        "rounds": rounds,
        "strict_start_threshold_0.9": {
            "targets_met": strict_met,
            "targets": strict_targets,
            "correction_recall": round(strict["recall"], 4),
            "correction_precision": round(strict["precision"], 4),
            "corrections": strict["corrections"],
            "test_accuracy_refined": round(acc_strict, 4),
            "accuracy_recovered_share": round(strict_recovered, 4),
            "rounds": strict["rounds"],
        },
        "train_sample": TRAIN,
        "noise_rate": NOISE,
        "flipped": int(flipped.sum()),
        "ensemble": "stand-in: lexicon member + TF-IDF LR on a disjoint clean base sample, "
        "weights and temperatures fitted on clean dev reviews (lib.models.ensemble); the "
        "LSTM/BiLSTM/BERT members of a real champion are not trained here",
        "ensemble_test_accuracy": round(ensemble_test, 4),
        "ensemble_dev_ece": round(fit.metrics["dev_ece_after"], 4),
        "ensemble_weights": {n: round(r.weight, 3) for n, r in fit.refs.items()},
        "ensemble_base_sample": BASE,
        "retrained_model": "TF-IDF (char_wb 1-3 + word 1-2) + class-balanced logistic regression",
        "setup_s": round(setup_s, 1),
        "refinement_s": round(refine_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    baseline = {
        "what": "no refinement: the noisy labels as they are",
        "labels_wrong": int(flipped.sum()),
        "test_accuracy": round(acc_noisy, 4),
    }

    def verdict(met: bool, targets: dict[str, bool]) -> str:
        missed = [name for name, ok in targets.items() if not ok]
        return "targets met" if met else f"targets NOT met ({', '.join(missed)} missed)"

    save(
        "noise",
        figures,
        baseline,
        f"20% symmetric noise on {TRAIN} NSMC reviews, stand-in ensemble (lexicon + TF-IDF). "
        f"At the default start threshold {DEFAULT_START}: {recall:.0%} of flips corrected at "
        f"{precision:.2f} precision; test accuracy clean {acc_clean:.4f} / noisy "
        f"{acc_noisy:.4f} / refined {acc_refined:.4f} ({recovered:.0%} of the loss recovered); "
        f"{verdict(default_met, default_targets)}. Starting at 0.9 instead (the "
        f"`start_threshold` config): {strict['recall']:.0%} at {strict['precision']:.2f} "
        f"precision, {strict_recovered:.0%} recovered; "
        f"{verdict(strict_met, strict_targets)}.",
    )


if __name__ == "__main__":
    main()
