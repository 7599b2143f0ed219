"""The one definition of what a GPU step asks for: the `gpu` pool and its Kubernetes pod.

Every training and pre-training asset that can use CUDA takes `pool=GPU_POOL` (one step per card
on any executor: the pool's limit is 1 in dagster.yaml and in the Helm values) and
`op_tags=GPU_OP_TAGS`. Under the k8s job executor dagster-k8s reads `dagster-k8s/config` from
the step's own tags (job-level tags are not applied per step) and builds the step's Job with it:
a `nvidia.com/gpu` limit, a node selector that places the pod on a GPU node (a toleration alone
does not), a toleration of the taint GPU node pools usually carry, and, with
SENTIMENT_GPU_IMAGE set, the CUDA build of the image. On any other executor the tags are inert
and the step uses CUDA only when the machine has it.
"""

import os
from typing import Any

GPU_POOL = "gpu"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
"""The label NVIDIA's GPU feature discovery puts on GPU nodes."""
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}

GPU_IMAGE = "SENTIMENT_GPU_IMAGE"
"""Image with CUDA torch for GPU steps (deploy/Dockerfile, TORCH_VARIANT=cu128); unset: the
run's own image."""


def gpu_op_tags(gpu_image: str | None = None) -> dict[str, Any]:
    """The op tags of a GPU step; `gpu_image` replaces the run's image in that step's pod."""
    container: dict[str, Any] = {"resources": {"limits": {GPU_RESOURCE: "1"}}}
    if gpu_image:
        container["image"] = gpu_image
    return {
        "dagster-k8s/config": {
            "container_config": container,
            "pod_spec_config": {
                "node_selector": GPU_NODE_SELECTOR,
                "tolerations": [GPU_TOLERATION],
            },
        }
    }


# Read when the code location loads (definition-time settings, like the executor choice).
GPU_OP_TAGS: dict[str, Any] = gpu_op_tags(os.environ.get(GPU_IMAGE, "").strip() or None)
