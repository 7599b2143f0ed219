"""Try a variant of one member against the others that `BENCH_KEEP=1 bench_quality` kept.

    python -m bench.study_variant bilstm --set vocab_size=50000
    python -m bench.study_variant bert --epochs 2 --rows 0
    python -m bench.study_variant lstm --set hidden=192 --epochs 3

Epochs and train rows default to the bench's for that member (`--rows 0`: all of them).

Retraining all four members to learn what one change does costs an hour; this trains only the
variant, on the bench's own split (same train rows, same dev sample for early stopping, one
thread as in a bench lane), and puts its probabilities in place of the kept member's. It prints,
beside the kept member: the member's NSMC-binary accuracy on the balanced test rows and the soft
vote's with the variant in its place, fitted on the same dev rows as the bench. One run of each
is one draw: on 12,462 test reviews a difference under about 0.005 is within seed noise.

`--set` takes fields of the member's config (LstmConfig, BiLstmConfig, BertTrainConfig); the
lexicon has none. BERT fine-tunes `--checkpoint`, by default the bench's own pre-trained
checkpoint kept beside the members. Probabilities go to bench/.work/variants/.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench.bench_quality import (
    BERT_BATCH,
    BERT_EPOCHS,
    BERT_ROWS,
    BILSTM_EPOCHS,
    LSTM_EPOCHS,
    MAX_LEN,
    MEMBER_BATCH,
    BenchSplit,
    bench_split,
    fit_soft_vote,
    member_probs,
    soft_vote_accuracy,
    subset,
)
from bench.common import WORK
from sentiment_assets.lib.corpus.labels import example_weights
from sentiment_assets.lib.models.base import Member, TrainSettings
from sentiment_assets.lib.models.evaluation import nsmc_binary_accuracy
from sentiment_assets.lib.models.members import available_members

KEPT = WORK / "quality"


CONFIGURABLE = {
    "lstm": ("sentiment_assets.lib.models.lstm", "LstmConfig"),
    "bilstm": ("sentiment_assets.lib.models.bilstm", "BiLstmConfig"),
    "bert": ("sentiment_assets.lib.models.bert", "BertTrainConfig"),
}
"""Member module and config class of the members whose `train` takes a config after the
settings (the registry's trainers do not); the lexicon has no config."""
BENCH_EPOCHS = {"lexicon": 1, "lstm": LSTM_EPOCHS, "bilstm": BILSTM_EPOCHS, "bert": BERT_EPOCHS}


def _config(member: str, overrides: list[str], checkpoint: str | None) -> Any:
    """The member's config dataclass with `key=value` overrides, typed like the defaults."""
    if member not in CONFIGURABLE:
        if overrides:
            raise SystemExit(f"the {member} member has no config to --set")
        return None
    module, class_name = CONFIGURABLE[member]
    defaults = getattr(importlib.import_module(module), class_name)()
    known = {f.name for f in fields(defaults)}
    values: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or key not in known:
            raise SystemExit(f"--set {item!r}: expected FIELD=VALUE with FIELD in {sorted(known)}")
        default = getattr(defaults, key)
        values[key] = (
            raw.lower() in ("1", "true", "yes")
            if isinstance(default, bool)
            else (type(default)(raw) if default is not None else raw)
        )
    if member == "bert":
        if checkpoint is None or not Path(checkpoint).is_dir():
            raise SystemExit(f"bert needs a pre-trained checkpoint directory; {checkpoint} is none")
        values |= {"base_checkpoint": checkpoint, "use_pretrained_asset": False}
    return replace(defaults, **values)


def _train(member: str, split: BenchSplit, config: Any, epochs: int, rows: int) -> Member:
    batch = BERT_BATCH if member == "bert" else MEMBER_BATCH
    settings = TrainSettings(epochs=epochs, batch_size=batch, device="cpu", max_len=MAX_LEN)
    train = subset(split.train, rows)
    if config is None:
        return available_members([member])[member].train(train, split.dev, settings)
    module = importlib.import_module(CONFIGURABLE[member][0])
    return module.train(train, split.dev, settings, config)


def _soft_vote(kept: dict[str, np.ndarray], split: BenchSplit) -> float:
    """NSMC-binary accuracy of the bench's soft vote over the members in `kept`."""
    names = [n for n in available_members() if f"test_{n}" in kept]
    fit_rows = np.isin(kept["dev_review_id"], kept["fit_dev_review_id"])
    labels = kept["dev_label"][fit_rows]
    fit = fit_soft_vote(
        {n: kept[f"dev_{n}"][fit_rows] for n in names}, labels, example_weights(labels)
    )
    return soft_vote_accuracy(fit, {n: kept[f"test_{n}"] for n in names}, split)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("member", choices=["lexicon", "lstm", "bilstm", "bert"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    parser.add_argument("--epochs", type=int, help="default: the bench's for this member")
    parser.add_argument(
        "--rows", type=int, help="train rows (0: all); default: the bench's for this member"
    )
    parser.add_argument(
        "--checkpoint",
        default=str(KEPT / "bert_pretrained"),
        help="pre-trained BERT directory to fine-tune (default: the bench's kept one)",
    )
    parser.add_argument("--label", help="name of the result file (default: from the options)")
    args = parser.parse_args()
    epochs = BENCH_EPOCHS[args.member] if args.epochs is None else args.epochs
    rows = (BERT_ROWS if args.member == "bert" else 0) if args.rows is None else args.rows

    probs = KEPT / "probs.npz"
    if not probs.is_file():
        raise SystemExit(f"{probs} not found: run `BENCH_KEEP=1 python -m bench.bench_quality`")
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    threadpool_limits(1)
    config = _config(args.member, args.overrides, args.checkpoint)
    kept = dict(np.load(probs))
    split = bench_split()
    for name, rows_of in (("test", split.test), ("dev", split.dev_all)):
        if not np.array_equal(
            rows_of["sentence_id"].to_numpy(dtype=str), kept[f"{name}_review_id"]
        ):
            raise SystemExit(f"{probs} was kept from another {name} split; keep it again")

    started = time.perf_counter()
    member = _train(args.member, split, config, epochs, rows)
    train_s = time.perf_counter() - started
    variant = dict(kept)
    for name, rows_of in (("dev", split.dev_all), ("test", split.test)):
        texts = rows_of["text"].astype(str).tolist()
        variant[f"{name}_{args.member}"] = member_probs({args.member: member}, texts)[args.member]

    label = args.label or "_".join([args.member, *args.overrides, f"e{epochs}", f"r{rows}"])
    out = WORK / "variants" / f"{label.replace('=', '')}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, dev=variant[f"dev_{args.member}"], test=variant[f"test_{args.member}"])
    key = f"test_{args.member}"

    def alone(probs: dict[str, np.ndarray]) -> float:
        return nsmc_binary_accuracy(probs[key][split.rows], split.binary)

    print(f"{label}: trained in {train_s:.0f} s; probabilities in {out}")
    print(f"  member NSMC-binary accuracy: kept {alone(kept):.4f}, variant {alone(variant):.4f}")
    print(
        f"  soft vote:                   kept {_soft_vote(kept, split):.4f}"
        f", variant {_soft_vote(variant, split):.4f}"
    )


if __name__ == "__main__":
    main()
