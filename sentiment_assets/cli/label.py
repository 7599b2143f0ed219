"""`sentiment label`: label a JSONL file of posts with the same code the pipeline uses."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sentiment_assets.lib.labeling.config import PROVIDERS, LabelerConfig, build_labeler
from sentiment_assets.lib.labeling.errors import LabelingConfigError
from sentiment_assets.lib.labeling.records import LabelAttempt, PostToLabel
from sentiment_assets.lib.settings import Paths
from sentiment_assets.lib.text.normalize import post_text

_SHOWN_ERRORS = 5


class InputError(ValueError):
    """The input file cannot be labeled as given; the message lists the offending lines."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `label` subcommand."""
    parser = subparsers.add_parser(
        "label",
        help="label posts from a JSONL file with an LLM or the ensemble",
        description="Label posts with an OpenAI-compatible server, Gemini, or the current "
        "ensemble (weak labels). Input: JSONL, one object per line with `text` (or `title` "
        "and/or `body`) and optionally `id`. Output: JSONL, one line per post in input order "
        "(`label` is null unless `status` is ok). Exit status 1 when some post got no label.",
    )
    parser.add_argument("--input", required=True, type=Path, help="posts, JSONL")
    parser.add_argument("--output", required=True, type=Path, help="labels, JSONL")
    parser.add_argument("--provider", required=True, choices=PROVIDERS)
    parser.add_argument("--base-url", help="OpenAI-compatible URL up to /v1, or a Gemini proxy")
    parser.add_argument("--model", help="model name (gemini default: gemini-2.5-flash)")
    parser.add_argument(
        "--api-key-env",
        default="SENTIMENT_LLM_API_KEY",
        help="environment variable holding the API key (Gemini also tries GEMINI_API_KEY, "
        "GOOGLE_API_KEY); keys are never taken on the command line",
    )
    parser.add_argument("--batch-size", type=int, default=20, help="posts per request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--max-attempts", type=int, default=3, help="answers asked per post")
    parser.add_argument("--max-retries", type=int, default=4, help="transport retries")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--max-requests", type=int, help="request budget for this run")
    parser.add_argument("--max-tokens", type=int, help="token budget for this run")
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not fill the cache")
    parser.add_argument(
        "--cache-dir", type=Path, help="folder of llm_cache.sqlite (default: the warehouse)"
    )
    parser.add_argument(
        "--all-attempts", action="store_true", help="write every attempt, not one line per post"
    )
    parser.set_defaults(handler=run)


def read_posts(path: Path) -> tuple[list[PostToLabel], list[Any]]:
    """Posts and their original ids from a JSONL file.

    Raises:
        InputError: unreadable file, a line that is not an object with text, or duplicate ids.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    posts: list[PostToLabel] = []
    ids: list[Any] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        if "text" in record:
            raw = record["text"]
            text = post_text(raw, None) if isinstance(raw, str) else ""
        else:
            title, body = record.get("title"), record.get("body")
            parts_ok = all(p is None or isinstance(p, str) for p in (title, body))
            text = post_text(title, body) if parts_ok else ""
        if not text:
            problems.append(f"line {number}: no text (needs a non-empty `text`, `title` or `body`)")
            continue
        post_id = record.get("id", number)
        key = json.dumps(post_id, ensure_ascii=False)
        if key in seen:
            problems.append(f"line {number}: duplicate id {key}")
            continue
        seen.add(key)
        posts.append(PostToLabel(key=key, text=text))
        ids.append(post_id)
    if problems:
        shown = "; ".join(problems[:_SHOWN_ERRORS])
        more = (
            f" (and {len(problems) - _SHOWN_ERRORS} more)" if len(problems) > _SHOWN_ERRORS else ""
        )
        raise InputError(f"{path}: {len(problems)} bad lines, nothing labeled: {shown}{more}")
    return posts, ids


def _final(attempts: list[LabelAttempt]) -> dict[str, Any]:
    ok = [a for a in attempts if a.status == "ok"]
    last = ok[-1] if ok else attempts[-1]
    row = last.as_row()
    row["attempts"] = len(attempts)
    row["tokens_in"] = sum(a.tokens_in for a in attempts)
    row["tokens_out"] = sum(a.tokens_out for a in attempts)
    costs = [a.cost_usd for a in attempts]
    row["cost_usd"] = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
    return row


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a crash never leaves half a file behind.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
    ) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    Path(handle.name).replace(path)


def run(args: argparse.Namespace) -> int:
    """Label the input file and write the output file; see `register` for the exit status."""
    try:
        posts, ids = read_posts(args.input)
    except InputError as exc:
        print(f"sentiment label: {exc}", file=sys.stderr)
        return 2
    paths = Paths.from_env()
    config = LabelerConfig(
        provider=args.provider,
        base_url=args.base_url,
        model=args.model,
        api_key=os.environ.get(args.api_key_env) or None,
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        max_attempts=args.max_attempts,
        max_retries=args.max_retries,
        timeout_s=args.timeout,
        max_requests=args.max_requests,
        max_tokens=args.max_tokens,
        use_cache=not args.no_cache,
    )
    try:
        labeler = build_labeler(
            config,
            cache_dir=args.cache_dir or paths.warehouse,
            models_root=paths.models,
            environ=os.environ,
            log=lambda msg: print(msg, file=sys.stderr),
        )
    except (LabelingConfigError, ValueError) as exc:
        print(f"sentiment label: {exc}", file=sys.stderr)
        return 2
    try:
        result = labeler.label(posts)
    finally:
        labeler.close()
    by_key: dict[str, list[LabelAttempt]] = {}
    for attempt in result.attempts:
        by_key.setdefault(attempt.key, []).append(attempt)
    rows: list[dict[str, Any]] = []
    for post, post_id in zip(posts, ids, strict=True):
        mine = by_key[post.key]
        chosen = [a.as_row() for a in mine] if args.all_attempts else [_final(mine)]
        for row in chosen:
            row.pop("key")
            rows.append({"id": post_id, **row})
    _write_jsonl(args.output, rows)
    s = result.summary
    cost = f"${s.cost_usd:.4f}" if s.cost_usd is not None else "unknown (no price for model)"
    print(
        f"labeled {s.posts_labeled}/{s.posts} posts with {s.provider}:{s.model} "
        f"({s.requests} requests, {s.cache_hits} from cache, {s.tokens_in}+{s.tokens_out} "
        f"tokens, cost {cost}, {s.elapsed_s:.1f}s) -> {args.output}",
        file=sys.stderr,
    )
    if s.posts_unlabeled:
        print(
            f"{s.posts_unlabeled} posts got no label; see `status` and `error` in the output",
            file=sys.stderr,
        )
        return 1
    return 0
