"""The one definition of what a GPU step asks for: the `gpu` pool and its Kubernetes pod.

Every training and pre-training asset that can use CUDA takes `pool=GPU_POOL` (one step per card
on any executor: the pool's limit is 1 in dagster.yaml and in the Helm values) and
`op_tags=GPU_OP_TAGS`. Under the k8s job executor dagster-k8s reads `dagster-k8s/config` from
the step's own tags (job-level tags are not applied per step) and builds the step's Job with it:
a `nvidia.com/gpu` limit, a node selector that places the pod on a GPU node (a toleration alone
does not), and a toleration of the taint GPU node pools usually carry. On any other executor the
tags are inert and the step uses CUDA only when the machine has it.
"""

from typing import Any

GPU_POOL = "gpu"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
"""The label NVIDIA's GPU feature discovery puts on GPU nodes."""
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}

GPU_OP_TAGS: dict[str, Any] = {
    "dagster-k8s/config": {
        "container_config": {"resources": {"limits": {GPU_RESOURCE: "1"}}},
        "pod_spec_config": {
            "node_selector": GPU_NODE_SELECTOR,
            "tolerations": [GPU_TOLERATION],
        },
    }
}
