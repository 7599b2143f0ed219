"""The instance config the official Dagster chart renders from deploy/helm/values.yaml.

The chart turns its values into dagster.yaml (a ConfigMap) with Go templates; helm cannot be
installed from the registries here (no Debian, PyPI or npm package ships it) and no registry
package carries the chart or its values schema, so this maps the keys our values file uses the
way the chart's instance templates do (runLauncher.config.k8sRunLauncher -> run_launcher,
concurrency -> concurrency, postgresql -> storage.postgres.postgres_db, dagsterDaemon ->
run_coordinator and run_retries). Dagster's and dagster-k8s' own config schemas then judge the
result, and a key this mapping does not know fails the test instead of being ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sentiment_assets.lib.settings import PROJECT_ROOT

VALUES = PROJECT_ROOT / "deploy" / "helm" / "values.yaml"
RUN_LAUNCHER_KEYS = {
    "loadInclusterConfig": "load_incluster_config",
    "kubeconfigFile": "kubeconfig_file",
    "jobNamespace": "job_namespace",
    "imagePullPolicy": "image_pull_policy",
    "envVars": "env_vars",
    "volumeMounts": "volume_mounts",
    "volumes": "volumes",
}


def load_values(path: Path = VALUES) -> dict[str, Any]:
    """The values file as data."""
    return yaml.safe_load(path.read_text())


def run_launcher_config(values: dict[str, Any], namespace: str) -> dict[str, Any]:
    """`run_launcher:` as the chart's K8sRunLauncher template renders it."""
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    k8s = launcher["config"]["k8sRunLauncher"]
    unknown = set(k8s) - set(RUN_LAUNCHER_KEYS) - {"envSecrets", "envConfigMaps", "image"}
    assert not unknown, f"keys the chart mapping here does not cover: {unknown}"
    config: dict[str, Any] = {
        RUN_LAUNCHER_KEYS[k]: v for k, v in k8s.items() if k in RUN_LAUNCHER_KEYS
    }
    config.setdefault("job_namespace", namespace)
    config["service_account_name"] = values["global"]["serviceAccountName"]
    config["dagster_home"] = {"env": "DAGSTER_HOME"}
    config["instance_config_map"] = {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"}
    config["postgres_password_secret"] = {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"}
    config["env_config_maps"] = [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}] + [
        m["name"] for m in k8s.get("envConfigMaps", [])
    ]
    if k8s.get("envSecrets"):
        config["env_secrets"] = [s["name"] for s in k8s["envSecrets"]]
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def concurrency_config(values: dict[str, Any]) -> dict[str, Any]:
    """`concurrency:` as the chart's concurrency template renders it."""
    conc = values["concurrency"]
    assert conc["enabled"] is True
    pools = conc["pools"]
    runs = conc["runs"]
    return {
        "pools": {"default_limit": pools["defaultLimit"], "granularity": pools["granularity"]},
        "runs": {
            "max_concurrent_runs": runs["maxConcurrentRuns"],
            "tag_concurrency_limits": [
                {
                    "key": t["key"],
                    "limit": t["limit"],
                    **({"value": t["value"]} if "value" in t else {}),
                }
                for t in runs["tagConcurrencyLimits"]
            ],
        },
    }


def storage_config(values: dict[str, Any]) -> dict[str, Any]:
    """`storage:` as the chart's PostgreSQL template renders it."""
    pg = values["postgresql"]
    db = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "params": pg.get("postgresqlParams", {}),
    }
    if pg.get("postgresqlScheme"):
        db["scheme"] = pg["postgresqlScheme"]
    return {"postgres": {"postgres_db": db}}


def instance_config(values: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The whole dagster.yaml the chart would put in its instance ConfigMap (our keys)."""
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    return {
        "run_launcher": run_launcher_config(values, namespace),
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
        },
        "concurrency": concurrency_config(values),
        "run_retries": {
            "enabled": daemon["runRetries"]["enabled"],
            "max_retries": daemon["runRetries"]["maxRetries"],
        },
        "storage": storage_config(values),
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
