"""BERT masked-LM pre-training (the GPU-tagged `bert_pretrained` step) on CPU and on CUDA.

The same pre-training as bench_quality's BERT (`lib/models/bert/pretrain.py`, the default
encoder size), for a fixed number of steps on NSMC train texts, timed with `--device cpu` and,
where torch sees a CUDA device, with `--device cuda` in the same run. Where no GPU is present the
CUDA figures say so instead of a number: a GPU machine is lent to only some sessions.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from typing import Any

import pandas as pd
import torch

from bench.common import WORK, save
from sentiment_assets.lib.corpus.load import SHARED_NSMC
from sentiment_assets.lib.models.base import TrainSettings
from sentiment_assets.lib.models.bert.pretrain import PretrainConfig, pretrain

STEPS = 200
BATCH = 64
MAX_LEN = 64
TEXTS = 50_000
NO_GPU = (
    "not measured: no GPU on this machine; no GPU machine was lent to the 2026-12-06 "
    "scale-out session (device status: not drawn)"
)


def _time(texts: list[str], device: str) -> float:
    work = WORK / "bert_gpu" / device
    shutil.rmtree(work, ignore_errors=True)
    settings = TrainSettings(batch_size=BATCH, device=device, max_len=MAX_LEN, epochs=1)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    pretrain(texts, replace(settings), PretrainConfig(steps=STEPS, max_passes=None), work)
    return time.perf_counter() - t0


def main() -> None:
    """Measure and save."""
    corpus = pd.read_parquet(SHARED_NSMC, columns=["text", "split"])
    texts = corpus.loc[corpus["split"] == "train", "text"].dropna().head(TEXTS).tolist()
    load_start = os.getloadavg()[0]
    cpu_s = _time(texts, "cpu")
    figures: dict[str, Any] = {
        # Other engineers' jobs share the 2 cores: the CPU time depends on them.
        "load_average_1m_at_start": round(load_start, 2),
        "load_average_1m_after_cpu": round(os.getloadavg()[0], 2),
        "steps": STEPS,
        "batch_size": BATCH,
        "max_len": MAX_LEN,
        "cpu_pretrain_s": round(cpu_s, 1),
        "cpu_steps_per_s": round(STEPS / cpu_s, 2),
    }
    if torch.cuda.is_available():
        cuda_s = _time(texts, "cuda")
        figures.update(
            cuda_device=torch.cuda.get_device_name(0),
            cuda_pretrain_s=round(cuda_s, 1),
            cuda_steps_per_s=round(STEPS / cuda_s, 2),
            cuda_speedup_vs_cpu=round(cpu_s / cuda_s, 1),
        )
    else:
        figures.update(cuda_pretrain_s=NO_GPU, cuda_steps_per_s=NO_GPU)
    save(
        "bench_bert_gpu",
        figures=figures,
        baseline={"cpu_threads": torch.get_num_threads()},
        summary=(
            f"BERT masked-LM pre-training (the default encoder: {PretrainConfig.num_layers} "
            f"layers of {PretrainConfig.hidden_size}, a WordPiece vocabulary of "
            f"{PretrainConfig.vocab_size:,} trained on the texts) for {STEPS} steps of {BATCH} "
            f"NSMC train reviews at {MAX_LEN} tokens, on CPU and, where present, on CUDA in the "
            "same run (tokenizer training included in both times)."
        ),
    )


if __name__ == "__main__":
    main()
