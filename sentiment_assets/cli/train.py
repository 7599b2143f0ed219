"""`sentiment train`: train every member on the base corpus, fit the ensemble, run the gate.

The new ensemble is registered in the MLflow model registry; it becomes champion if it is the
first or if it beats the champion on the frozen evaluation set by the margin.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train` subcommand."""
    parser = subparsers.add_parser(
        "train", help="train all registered members on the base corpus, then fit the ensemble"
    )
    parser.add_argument(
        "--source", help="corpus file, `nsmc`, `nsmc-raw:<ids>` or `embedded` (see README)"
    )
    parser.add_argument(
        "--sample-size", type=int, default=20_000, help="train rows (default 20000; 0: all)"
    )
    parser.add_argument(
        "--eval-size", type=int, default=2_000, help="dev rows for calibration (default 2000)"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--max-len", type=int, default=64, help="tokens per text")
    parser.add_argument("--members", help="comma-separated subset of members (default: all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--gate-margin",
        type=float,
        default=0.005,
        help="macro-F1 a new ensemble must gain over the champion to replace it (default 0.005)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load and record the corpus, train each member, fit and save the ensemble."""
    from sentiment_assets.lib.corpus.load import (
        CorpusSample,
        labeled,
        load,
    )
    from sentiment_assets.lib.corpus.sources import CorpusError
    from sentiment_assets.lib.lakehouse import Lakehouse
    from sentiment_assets.lib.models.base import TrainSettings
    from sentiment_assets.lib.models.members import available_members
    from sentiment_assets.lib.models.pipeline import build_ensemble, train_member
    from sentiment_assets.lib.registry.evalset import frozen_evaluation_set, in_gate_half
    from sentiment_assets.lib.registry.gate import register_and_gate
    from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri

    paths = Paths.from_env()
    try:
        names = args.members.split(",") if args.members else None
        specs = available_members(names)
        sample = CorpusSample(
            train=args.sample_size or None, evaluation=args.eval_size or None, seed=args.seed
        )
        loaded = load(args.source, sample, log=lambda line: print(line, flush=True))
        frame = loaded.frame
    except (KeyError, CorpusError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The rows are recorded in the lakehouse so every version can name the snapshot it saw.
    stored = frame.assign(loaded_at=pd.Timestamp.now(tz="UTC"))
    with Lakehouse(paths.warehouse).session() as lake:
        lake.append("base_corpus", stored, key=("sentence_id",))
        snapshot_id = lake.current_snapshot_id()
        evaluation = frozen_evaluation_set(lake)
    # Half of dev is the gate's; members and ensemble weights are tuned on the other half only.
    fitting = frame.loc[
        ~((frame["split"] == "dev").to_numpy() & in_gate_half(frame["sentence_id"]))
    ]
    train, dev = labeled(fitting, "train"), labeled(fitting, "dev")
    print(f"train rows {len(train.texts)}, dev rows {len(dev.texts)}, snapshot {snapshot_id}")
    settings = TrainSettings(
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        max_len=args.max_len,
    )
    data = {"source": loaded.description, "train_rows": len(train.texts)}
    uri = mlflow_tracking_uri(paths)
    for name, spec in specs.items():
        print(f"training {name} ...", flush=True)
        saved = train_member(
            spec,
            train,
            dev,
            settings,
            models_root=paths.models,
            tracking_uri=uri,
            snapshot_id=snapshot_id,
            data=data,
        )
        figures = ", ".join(f"{k} {v:.4g}" for k, v in saved.manifest.metrics.items())
        print(f"  {name} {saved.manifest.version}: {figures}", flush=True)
    ensemble, saved = build_ensemble(
        dev,
        models_root=paths.models,
        tracking_uri=uri,
        snapshot_id=snapshot_id,
        names=list(specs),
        data=data,
    )
    weights = ", ".join(f"{n} {r.weight:.3f}" for n, r in ensemble.refs.items())
    print(f"ensemble {saved.manifest.version}: weights {weights}; saved at {saved.path}")
    if saved.manifest.config.get("contribution_warning"):
        print(f"warning: {saved.manifest.config['contribution_warning']}")
    gate = register_and_gate(
        ensemble,
        models_root=paths.models,
        run_id=saved.run_id,
        evaluation=evaluation,
        snapshot_id=snapshot_id,
        metrics=saved.manifest.metrics,
        margin=args.gate_margin,
        tags={"trained_by": "sentiment train"},
    )
    outcome = "champion" if gate.promoted else "challenger (not promoted)"
    print(f"registry {gate.registered.describe()}: {outcome}: {gate.reason}")
    return 0
