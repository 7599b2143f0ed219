"""Which executor runs each job's steps: local subprocesses by default, or Kubernetes Jobs.

`SENTIMENT_EXECUTOR=k8s` (set by deploy/helm/values.yaml for the code location in a cluster)
selects dagster-k8s' job executor.

Under the k8s job executor every step is its own Kubernetes Job, built by dagster-k8s from the
run launcher's settings plus the step's `dagster-k8s/config` tag (`defs/training/gpu.py`), and
pools are enforced by the shared PostgreSQL instance across all pods.
"""

import os

import dagster as dg

EXECUTOR = "SENTIMENT_EXECUTOR"
CHOICES = ("multiprocess", "k8s")


def executor_for(choice: str) -> dg.ExecutorDefinition | None:
    """The executor `choice` names; None keeps Dagster's default (multiprocess).

    Raises:
        ValueError: an unknown name.
    """
    if choice in ("", "multiprocess"):
        return None
    if choice == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"{EXECUTOR}={choice!r}: expected one of {', '.join(CHOICES)}")


@dg.definitions
def defs() -> dg.Definitions:
    """The code location's default executor, from SENTIMENT_EXECUTOR."""
    executor = executor_for(os.environ.get(EXECUTOR, "").strip())
    return dg.Definitions(executor=executor) if executor is not None else dg.Definitions()
