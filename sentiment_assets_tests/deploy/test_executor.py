"""SENTIMENT_EXECUTOR chooses the code location's executor; a typo is a clear error."""

from __future__ import annotations

import pytest
from dagster_k8s import k8s_job_executor

from sentiment_assets.defs.deployment.executor import executor_for


def test_k8s_selects_the_k8s_job_executor_and_the_default_stays_local() -> None:
    assert executor_for("k8s") is k8s_job_executor
    assert executor_for("") is None and executor_for("multiprocess") is None


def test_an_unknown_executor_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"SENTIMENT_EXECUTOR='kube'.*multiprocess, k8s"):
        executor_for("kube")
