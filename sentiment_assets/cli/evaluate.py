"""`sentiment evaluate`: test-split quality of every member and of the ensemble."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `evaluate` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy, macro-F1, confusion matrix and NSMC-binary accuracy on the test split",
    )
    parser.add_argument(
        "--source", help="corpus file, `nsmc`, `nsmc-raw:<ids>` or `embedded` (see README)"
    )
    parser.add_argument(
        "--sample-size", type=int, default=5_000, help="test rows (default 5000; 0: all)"
    )
    parser.add_argument(
        "--model-version",
        help="ensemble version directory or registry version number (default: the champion)",
    )
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--seed", type=int, default=13)
    parser.set_defaults(handler=run)


def _table(results: dict[str, dict]) -> str:
    lines = [f"{'model':<12} {'n':>6} {'accuracy':>9} {'macro_f1':>9} {'binary':>8} {'ece':>7}"]
    for name, r in results.items():
        lines.append(
            f"{name:<12} {r['n']:>6} {r['accuracy']:>9.4f} {r['macro_f1']:>9.4f} "
            f"{r['nsmc_binary_accuracy']:>8.4f} {r['ece']:>7.4f}"
        )
    lines.append("confusion matrices (rows true 부정/중립/긍정, columns predicted):")
    lines += [f"  {name}: {r['confusion']}" for name, r in results.items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Score the test split, print the figures, log them to MLflow."""
    import pandas as pd

    from sentiment_assets.lib.corpus.load import CorpusSample, load
    from sentiment_assets.lib.corpus.sources import CorpusError
    from sentiment_assets.lib.models.base import ModelLoadError
    from sentiment_assets.lib.models.evaluation import evaluate_prediction
    from sentiment_assets.lib.models.tracking import log_run
    from sentiment_assets.lib.registry.resolve import RegistryError, resolve_ensemble
    from sentiment_assets.lib.settings import Paths, mlflow_tracking_uri

    paths = Paths.from_env()
    try:
        ensemble = resolve_ensemble(paths.models, args.model_version)
        loaded = load(
            args.source, CorpusSample(train=0, evaluation=args.sample_size or None, seed=args.seed)
        )
    except (ModelLoadError, CorpusError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    frame = loaded.frame
    test = pd.DataFrame(frame.loc[frame["split"] == "test"]).reset_index(drop=True)
    if test.empty:
        print(f"error: {loaded.description} has no test rows", file=sys.stderr)
        return 2
    results = evaluate_prediction(ensemble.predict(test["text"].tolist()), test, seed=args.seed)
    print(f"ensemble {ensemble.version} on {len(test)} test rows of {loaded.description}")
    print(_table(results))
    if args.output:
        args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    log_run(
        mlflow_tracking_uri(paths),
        paths.models,
        run_name=f"evaluate {ensemble.version}",
        params={"source": loaded.description, "test_rows": len(test)},
        metrics={
            f"test_{name}_{key}": float(r[key])
            for name, r in results.items()
            for key in ("accuracy", "macro_f1", "nsmc_binary_accuracy", "ece")
        },
        tags={"member": "evaluation", "version": ensemble.version},
    )
    return 0
