"""Bias checks of a refinement round, reported as materialization metadata.

Self-training can drift without any single decision looking wrong: one class swallowing the
others, one board or job class corrected far more than the rest (its slang unknown to the
models), one labeler overruled wholesale (a bad prompt or model). The report gives the label
distribution before and after the round and its shift, and per board, job and labeler the
share of labels the round changed; `warnings` names groups corrected at more than
`WARN_FACTOR` times the overall rate.
"""

from __future__ import annotations

from typing import cast

import pandas as pd

from sentiment_assets.lib.models.base import LABELS

WARN_FACTOR = 2.0
MIN_GROUP = 20
"""Groups smaller than this are reported but never warned about (too few to mean anything)."""


def distribution(labels: pd.Series) -> dict[str, float]:
    """Share of each label among the non-missing `labels` (0 for absent classes)."""
    present = labels.dropna()
    total = len(present)
    counts = {str(k): int(v) for k, v in present.value_counts().items()}
    return {label: round(counts.get(label, 0) / total, 4) if total else 0.0 for label in LABELS}


def total_variation(a: dict[str, float], b: dict[str, float]) -> float:
    """Half the L1 distance between two label distributions: 0 same, 1 disjoint."""
    return round(0.5 * sum(abs(a[k] - b[k]) for k in LABELS), 4)


def _groups(
    keys: pd.Series, given: pd.Series, after: pd.Series, overall: float, name: str
) -> tuple[dict[str, dict[str, object]], list[str]]:
    report: dict[str, dict[str, object]] = {}
    warnings: list[str] = []
    frame = pd.DataFrame(
        {"key": keys.astype("string").fillna("unknown"), "given": given, "after": after}
    )
    for key, rows in frame.groupby("key", sort=True):
        n = len(rows)
        rate = float((rows["after"] != rows["given"]).mean()) if n else 0.0
        report[str(key)] = {
            "posts": n,
            "correction_rate": round(rate, 4),
            "distribution": distribution(cast(pd.Series, rows["after"])),
        }
        if n >= MIN_GROUP and overall > 0 and rate > WARN_FACTOR * overall:
            warnings.append(f"{name} {key}: {rate:.1%} of labels changed vs {overall:.1%} overall")
    return report, warnings


def bias_report(frame: pd.DataFrame, before: pd.Series, after: pd.Series) -> dict[str, object]:
    """The round's bias checks.

    Args:
        frame: the round's posts: given_label, given_labeler, board_id and (if known) job.
        before: each post's label before the round (NaN for new posts); the shift
            (total variation, None without such posts) compares it with `after` on them.
        after: each post's label after the round.
    """
    labeled = frame["given_label"].isin(LABELS)
    given, changed_to = frame.loc[labeled, "given_label"], after.loc[labeled]
    overall = float((changed_to != given).mean()) if len(given) else 0.0
    by_board, w_board = _groups(frame.loc[labeled, "board_id"], given, changed_to, overall, "board")
    jobs = frame["job"] if "job" in frame else pd.Series(None, index=frame.index)
    by_job, w_job = _groups(jobs.loc[labeled], given, changed_to, overall, "job")
    by_labeler, w_labeler = _groups(
        frame.loc[labeled, "given_labeler"], given, changed_to, overall, "labeler"
    )
    before_dist, after_dist = distribution(before), distribution(after)
    # Shift is measured over the posts labeled before the round: new posts are not a shift.
    existing = before.notna()
    shift = (
        total_variation(before_dist, distribution(cast(pd.Series, after.loc[existing])))
        if existing.any()
        else None
    )
    return {
        "distribution_before": before_dist,
        "distribution_after": after_dist,
        "distribution_shift_tv": shift,
        "correction_rate": round(overall, 4),
        "by_board": by_board,
        "by_job": by_job,
        "by_labeler": by_labeler,
        "warnings": w_board + w_job + w_labeler,
    }
