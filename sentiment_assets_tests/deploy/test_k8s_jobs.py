"""The Kubernetes Jobs dagster-k8s submits for a GPU-tagged step and a CPU step.

A real run with the k8s job executor and the K8sRunLauncher configured as the chart renders it
from deploy/helm/values.yaml submits its step Jobs to a Kubernetes API server on 127.0.0.1
(`k8s_api.py`); each Job is then read into the `kubernetes` client's V1Job model and validated
against the Kubernetes API's own schema (strict: no unknown fields).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config_schema
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_postgres.utils import pg_config

from sentiment_assets.defs.lakehouse.assets import lakehouse_inventory
from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.bert_pretraining import bert_pretrained
from sentiment_assets.defs.training.gpu import GPU_RESOURCE
from sentiment_assets.defs.training.resources import ModelStoreResource
from sentiment_assets.lib.settings import PROJECT_ROOT
from sentiment_assets_tests.deploy.chart import instance_config, load_values
from sentiment_assets_tests.deploy.k8s_api import fake_cluster

NAMESPACE = "maple"
CPU_IMAGE = "registry.maple.internal/maple-sentiment:0.1.0-cpu"
KUBERNETES_VERSION = "1.32.0"


def probe_job() -> dg.JobDefinition:
    """A GPU-tagged step (bert_pretrained) beside a CPU step (lakehouse_inventory), on k8s."""
    defs = dg.Definitions(
        assets=[bert_pretrained, lakehouse_inventory],
        resources={"lakehouse": LakehouseResource(), "model_store": ModelStoreResource()},
        jobs=[dg.define_asset_job("k8s_probe", selection=[bert_pretrained, lakehouse_inventory])],
        executor=k8s_job_executor,
    )
    return defs.resolve_job_def("k8s_probe")


def run_probe() -> None:
    """Run `probe_job` on the instance in DAGSTER_HOME (in a process of its own, see below)."""
    job = dg.reconstructable(probe_job)
    # The chart's user code deployment sets DAGSTER_CURRENT_IMAGE, and its runs carry the image
    # in their code origin; a test-made run gets it here.
    image = os.environ["DAGSTER_CURRENT_IMAGE"]
    job = job._replace(repository=job.repository._replace(container_image=image))
    with dg.DagsterInstance.get() as instance:
        # Every step fails at once (see k8s_api.py): retrying would only resubmit the same Jobs.
        result = dg.execute_job(
            job,
            instance=instance,
            run_config={"execution": {"config": {"retries": {"disabled": {}}}}},
        )
        print("probe run success:", result.success)


def _user_deployment_env() -> dict[str, str]:
    deployment = load_values()["dagster-user-deployments"]["deployments"][0]
    return {item["name"]: item["value"] for item in deployment["env"]}


def _pod_spec(body: dict[str, Any]) -> kubernetes.client.V1PodSpec:
    """The Job read into the `kubernetes` client's models (required fields and types checked)."""
    api = kubernetes.client.ApiClient()
    job: kubernetes.client.V1Job = api._ApiClient__deserialize(body, "V1Job")  # type: ignore[attr-defined]
    assert job.spec is not None and job.spec.template.spec is not None
    return job.spec.template.spec


def _container(spec: kubernetes.client.V1PodSpec) -> kubernetes.client.V1Container:
    assert spec.containers and len(spec.containers) == 1
    return spec.containers[0]


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


@pytest.fixture
def pod_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the chart sets in its pods for its templates' `env:` references; DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_K8S_INSTANCE_CONFIG_MAP", "dagster-instance")
    monkeypatch.setenv("DAGSTER_K8S_PG_PASSWORD_SECRET", "dagster-postgresql-secret")
    monkeypatch.setenv("DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP", "dagster-pipeline-env")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "from-the-secret")
    monkeypatch.setenv("DAGSTER_CURRENT_IMAGE", CPU_IMAGE)
    return home


@pytest.fixture
def k8s_instance(tmp_path: Path, pod_env: Path):
    """An instance whose run launcher is the chart's, talking to the local API server."""
    home = pod_env
    kubeconfig = tmp_path / "kubeconfig"
    config = instance_config(load_values(), NAMESPACE)
    # Outside a cluster: the kubeconfig of the local API server instead of the pod's account.
    launcher = config["run_launcher"]["config"]
    launcher.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    # The chart's storage is a managed PostgreSQL this test cannot reach: keep SQLite here
    # (test_values_render_a_valid_instance checks the storage section on its own).
    del config["storage"]
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with fake_cluster(kubeconfig, NAMESPACE) as cluster:
        yield home, cluster


def test_values_render_a_valid_instance(pod_env: Path) -> None:
    values = load_values()
    config = instance_config(values, NAMESPACE)
    checked = process_config(dagster_instance_config_schema(), config)
    assert checked.success, checked.errors
    launcher = process_config(K8sRunLauncher.config_type(), config["run_launcher"]["config"])
    assert launcher.success, launcher.errors
    storage = process_config(pg_config(), config["storage"]["postgres"])
    assert storage.success, storage.errors
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert {"key": "llm_api", "limit": 1} in config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert _user_deployment_env()["SENTIMENT_EXECUTOR"] == "k8s"


def test_gpu_and_cpu_step_jobs_validate_against_the_kubernetes_api(k8s_instance) -> None:
    _home, cluster = k8s_instance
    # A process of its own, as the code location in the cluster: the GPU image setting is read
    # when the definitions load, like every deployment setting.
    env = {**os.environ, "SENTIMENT_GPU_IMAGE": _user_deployment_env()["SENTIMENT_GPU_IMAGE"]}
    probe = subprocess.run(
        [sys.executable, "-c", f"from {__name__} import run_probe; run_probe()"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # The API server reports every Job failed, so the run fails right after submitting them.
    assert "probe run success: False" in probe.stdout, probe.stdout[-2000:] + probe.stderr[-3000:]
    assert len(cluster.jobs) == 2, cluster.requests
    by_step = {job["metadata"]["labels"]["dagster/op"]: job for job in cluster.jobs}
    assert set(by_step) == {"bert_pretrained", "lakehouse_inventory"}

    values = load_values()
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for job in cluster.jobs:
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
        assert _pod_spec(job).service_account_name == values["global"]["serviceAccountName"]
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:3] == ["dagster", "api", "execute_step"]
        env = _env(container)
        for pair in launcher["envVars"]:
            name, value = pair.split("=", 1)
            assert env[name] == value
        secret_refs = {
            ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref
        }
        assert secret_refs == {s["name"] for s in launcher["envSecrets"]}
        assert {"configMapRef": {"name": "dagster-pipeline-env"}} in container["envFrom"]
        assert container["volumeMounts"][0]["mountPath"] == "/data"

    gpu = _pod_spec(by_step["bert_pretrained"])
    gpu_container = _container(gpu)
    assert gpu_container.resources is not None
    assert gpu_container.resources.limits == {GPU_RESOURCE: "1"}
    assert gpu_container.image == _user_deployment_env()["SENTIMENT_GPU_IMAGE"]
    assert gpu.node_selector == {"nvidia.com/gpu.present": "true"}
    assert [(t.key, t.operator, t.effect) for t in gpu.tolerations or []] == [
        (GPU_RESOURCE, "Exists", "NoSchedule")
    ]
    cpu = _pod_spec(by_step["lakehouse_inventory"])
    cpu_container = _container(cpu)
    assert cpu_container.image == CPU_IMAGE
    assert not (cpu_container.resources and cpu_container.resources.limits)
    assert cpu.node_selector is None and cpu.tolerations is None


def test_a_snake_case_pod_field_fails_validation() -> None:
    # Strict enough to catch the likeliest slip: dagster-k8s tags spell fields in snake_case,
    # the API in camelCase; a snake_case key in a raw spec is an unknown field.
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "bad"},
        "spec": {
            "template": {
                "spec": {
                    "node_selector": {"nvidia.com/gpu.present": "true"},
                    "containers": [{"name": "step", "image": CPU_IMAGE}],
                    "restartPolicy": "Never",
                }
            }
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(json.loads(json.dumps(job)), KUBERNETES_VERSION, strict=True)
