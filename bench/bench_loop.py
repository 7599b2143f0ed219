"""bench_loop: from the 100th review to the new champion's numbers in the marts, stage by stage.

The loop as the end-to-end test runs it (`sentiment_assets.rehearsal`): a real
`dagster-daemon` in a temporary DAGSTER_HOME and lakehouse, a lexicon-only champion on a small
embedded demo corpus, 1,100 replay-site posts labeled by the 1,000-post sensor's run, then 100
reviews through the HTTP API. The clock starts when the 100th review is answered and stops when
`marts_export` has written the new champion's numbers. Stages, from the retraining run's
records in the instance:

- sensor latency: the 100th review until `feedback_sensor` created the run (its 30 s interval);
- run launch: created until the run started (queue, run worker process, code location load);
- ingest + refinement: the `feedback` and `refined_labels` steps;
- retraining: `challenger_model` without its gate; promotion: registering and gating
  (`gate_seconds` in its metadata, alias move included);
- re-scoring: `champion_predictions` (every post scored by the new champion, then recorded);
- dbt: the `sentiment_marts` step (dbt build of every model and test); export: `marts_export`;
- between steps: the rest (step process starts under the multiprocess executor, keywords,
  waits on the lakehouse pool).

Measured twice in the same run: the project's code location as `make dev` serves it
(multiprocess executor: a process per step), and the in-process executor the test uses, the
baseline. Tiny models: these are the loop's fixed costs, not training time at scale.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import WORK, save
from sentiment_assets.lib.registry import CHAMPION, ModelRegistry
from sentiment_assets.rehearsal.deployment import (
    IN_PROCESS_LOCATION,
    PROJECT_LOCATION,
    LoopDeployment,
)
from sentiment_assets.rehearsal.scenario import (
    marts_versions,
    prediction_marts,
    prepare,
    review,
)

REVIEWS = 100
STEPS = {
    "ingest_and_refinement_s": ("feedback", "refined_labels"),
    "rescoring_s": ("champion_predictions",),
    "dbt_s": ("sentiment_marts",),
    "export_s": ("marts_export",),
}


def measure(module: str) -> dict[str, Any]:
    """One pass of the loop with the code location `module`; stage seconds and outcome."""
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK, prefix="loop-") as root:
        d = LoopDeployment(Path(root), module=module)
        try:
            prepare(d)
            d.start_daemon()
            d.wait_for_run("labeling_job", timeout_s=1200)
            reviews = review(d, REVIEWS)
            run = d.wait_for_run("retraining_job", timeout_s=1200)
            gate = d.materialization(run, "challenger_model")
            with d.instance() as instance:
                record = instance.get_run_record_by_id(run.run_id)
                steps = {s.step_key: s for s in instance.get_run_step_stats(run.run_id)}
            if record is None or record.start_time is None:
                raise RuntimeError(f"retraining run {run.run_id} has no start time")
            champion = ModelRegistry(d.models).alias(CHAMPION)
            marts = prediction_marts(d.warehouse / "marts.duckdb")
        finally:
            d.stop_daemon()
    created = record.create_timestamp.timestamp()

    def took(*assets: str) -> float:
        # A graph-backed asset (refined_labels: read, LLM, write) runs as steps named
        # `<asset>.<op>`; its time is theirs together.
        keys = [k for k in steps for a in assets if k == a or k.startswith(f"{a}.")]
        if not keys:
            raise RuntimeError(f"the retraining run has no step for {assets}: {sorted(steps)}")
        return sum((steps[k].end_time or 0.0) - (steps[k].start_time or 0.0) for k in keys)

    stages: dict[str, float] = {
        "sensor_latency_s": created - reviews.last_at,
        "run_launch_s": record.start_time - created,
    }
    stages["ingest_and_refinement_s"] = took(*STEPS["ingest_and_refinement_s"])
    stages["retraining_s"] = took("challenger_model") - float(gate["gate_seconds"])
    stages["promotion_s"] = float(gate["gate_seconds"])
    for name in ("rescoring_s", "dbt_s", "export_s"):
        stages[name] = took(*STEPS[name])
    total = (steps["marts_export"].end_time or 0.0) - reviews.last_at
    stages["between_steps_s"] = total - sum(stages.values())
    stages["total_s"] = total
    return {
        **{k: round(v, 1) for k, v in stages.items()},
        "promoted": bool(gate["promoted"]),
        "gate_reason": gate["gate_reason"],
        "marts_show_new_champion": champion is not None
        and marts_versions(marts) == {champion.version},
        "accepts_of_100": reviews.decisions.count("accept"),
    }


def main() -> int:
    """Measure both code locations; save bench/results/bench_loop.json."""
    load_before = os.getloadavg()[0]
    project = measure(PROJECT_LOCATION)
    baseline = measure(IN_PROCESS_LOCATION)
    load_after = os.getloadavg()[0]
    ratio = project["total_s"] / baseline["total_s"] if baseline["total_s"] else None
    figures = {f"project location: {k}": v for k, v in project.items()}
    figures["total, project / in-process executor"] = round(ratio, 2) if ratio else None
    figures["load average (1 min) before / after"] = f"{load_before:.1f} / {load_after:.1f}"
    summary = (
        f"From the 100th review to the new champion's numbers in marts.duckdb: "
        f"{project['total_s']:.0f} s with the project's code location (a process per step), "
        f"{baseline['total_s']:.0f} s with the in-process executor the loop test uses; dbt "
        f"{project['dbt_s']:.0f} s and sensor latency {project['sensor_latency_s']:.0f} s of "
        f"it. Tiny lexicon-only models on the replay site; load average {load_before:.1f} "
        f"before and {load_after:.1f} after on {os.cpu_count()} cores (other test runs shared "
        "the machine when it was above that), so read the stages relative to each other."
    )
    save(
        "bench_loop",
        figures,
        {f"in-process executor: {k}": v for k, v in baseline.items()},
        summary,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
