"""Fine-tuning a BERT encoder for the three sentiment classes.

The recipe follows ULMFiT/BERT fine-tuning practice, because a small labeled set can wreck what
pre-training learned ("catastrophic forgetting"):
- the encoder learns more slowly than the freshly initialised head (two learning rates);
- progressive unfreezing: at first only the head trains (its random start would otherwise send
  large gradients into the encoder), then every `unfreeze_every` epochs the next lower layer
  joins, top layer first and embeddings last, because lower layers hold the most general
  features and should move least;
- early stopping on dev macro-F1, restoring the best epoch's weights;
- decoupled weight decay (AdamW), none on biases and LayerNorm;
- per-example loss weights as the data gives them (class balance and human feedback folded
  in), or class-balanced weights for bare labels.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import nn
from transformers import PreTrainedModel

from sentiment_assets.lib.models.base import LABELS, LabeledTexts, TrainSettings
from sentiment_assets.lib.models.bert.pretrain import PretrainConfig
from sentiment_assets.lib.models.bert.runtime import (
    linear_warmup,
    pad_batch,
    seed_everything,
)
from sentiment_assets.lib.models.precision import mixed_precision
from sentiment_assets.lib.models.recurrent import length_batches

log = logging.getLogger(__name__)

BASE_ENV = "SENTIMENT_BERT_BASE"
"""Environment variable naming a base checkpoint (local directory or hub id)."""

PRETRAINED_ENCODER_LR = 3e-5
PRETRAINED_UNFREEZE_EVERY = 0.25


@dataclass(frozen=True)
class BertTrainConfig:
    """BERT-specific knobs on top of `TrainSettings`."""

    base_checkpoint: str | None = None
    """Local checkpoint directory or hub id to fine-tune; None uses our own pre-training."""
    use_pretrained_asset: bool = True
    """Without a base checkpoint, start from the newest `bert_pretrained` version if any."""
    models_root: Path | None = None
    """Where `bert_pretrained` versions live; None means `Paths.from_env().models`."""
    allow_download: bool = True
    """Whether a hub id that is not cached may be downloaded."""
    hub_endpoint: str | None = None
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    """Used only when no checkpoint exists: pre-train on the training texts first."""
    encoder_lr: float = 1e-3
    """Suits the small self-pre-trained default, whose encoder has little to protect; a
    base-size checkpoint wants about 3e-5 (what `from_env` picks when SENTIMENT_BERT_BASE is set).
    """
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    unfreeze_every: float = 0.0
    """Epochs between unfreezing successive layer groups; 0 trains everything from the start.

    Progressive unfreezing protects what a well pre-trained encoder knows. Our own CPU
    pre-training leaves the lower layers barely trained, and keeping them frozen for most of a
    single epoch cost the member 17 points on NSMC (0.64 vs 0.81 binary accuracy after 60k rows).
    """
    patience: int = 2
    """Epochs without dev improvement before stopping."""
    max_grad_norm: float = 1.0
    predict_batch_size: int = 128

    @classmethod
    def from_env(cls) -> BertTrainConfig:
        """Defaults; base checkpoint from SENTIMENT_BERT_BASE, no downloads if HF_HUB_OFFLINE.

        A configured checkpoint is taken to be a real pre-trained encoder, so it gets the gentle
        fine-tuning such encoders are published with: a small encoder learning rate and
        progressive unfreezing.
        """
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        base = os.environ.get(BASE_ENV) or None
        if base is None:
            return cls(allow_download=not offline)
        return cls(
            base_checkpoint=base,
            allow_download=not offline,
            encoder_lr=PRETRAINED_ENCODER_LR,
            unfreeze_every=PRETRAINED_UNFREEZE_EVERY,
        )


def layer_groups(model: PreTrainedModel) -> list[list[nn.Parameter]]:
    """Parameters top down: head (classifier, pooler), layer N-1 ... layer 0, embeddings."""
    base = model.base_model
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    embeddings = getattr(base, "embeddings", None)
    if not isinstance(layers, nn.ModuleList) or not isinstance(embeddings, nn.Module):
        raise ValueError(
            f"{type(model).__name__} is not a BERT-style encoder (no encoder.layer/embeddings)"
        )
    lower = {id(p) for p in layers.parameters()} | {id(p) for p in embeddings.parameters()}
    head = [p for p in model.parameters() if id(p) not in lower]
    blocks = [list(layer.parameters()) for layer in reversed(layers)]
    return [head, *blocks, list(embeddings.parameters())]


class ProgressiveUnfreezing:
    """Keeps lower layer groups frozen (no gradient, update or weight decay) until their turn."""

    def __init__(self, groups: list[list[nn.Parameter]], stage_steps: int):
        """`stage_steps` optimiser steps pass between unfreezing one group and the next."""
        self.groups = groups
        self.stage_steps = stage_steps
        self.unfrozen = 0

    def apply(self, step: int) -> int:
        """Set `requires_grad` for `step`; returns how many groups (from the top) now train."""
        if self.stage_steps <= 0:
            wanted = len(self.groups)
        else:
            wanted = min(len(self.groups), 1 + step // self.stage_steps)
        if wanted != self.unfrozen:
            for i, group in enumerate(self.groups):
                for param in group:
                    param.requires_grad_(i < wanted)
            self.unfrozen = wanted
        return wanted


def parameter_groups(model: PreTrainedModel, config: BertTrainConfig) -> list[dict]:
    """Optimiser groups: head vs encoder learning rate, no weight decay on biases/LayerNorm."""
    groups = layer_groups(model)
    head = {id(p) for p in groups[0]}
    buckets: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        no_decay = name.endswith("bias") or "layernorm" in name.lower().replace("_", "")
        buckets.setdefault((id(param) in head, no_decay), []).append(param)
    return [
        {
            "params": params,
            "lr": config.head_lr if is_head else config.encoder_lr,
            "weight_decay": 0.0 if no_decay else config.weight_decay,
        }
        for (is_head, no_decay), params in buckets.items()
    ]


def class_weights(labels: np.ndarray) -> torch.Tensor:
    """Inverse-frequency weights, mean 1 over the classes present; absent classes get 1."""
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
    present = counts > 0
    weights = np.ones(len(LABELS))
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def batched_logits(
    model: PreTrainedModel, rows: list[list[int]], pad_id: int, batch_size: int
) -> np.ndarray:
    """Logits for token id rows, batched by similar length to waste little on padding."""
    device = next(model.parameters()).device
    order = np.argsort([len(row) for row in rows], kind="stable")
    out = np.zeros((len(rows), len(LABELS)), dtype=np.float32)
    was_training = model.training
    model.eval()
    with torch.inference_mode(), mixed_precision(device):
        for start in range(0, len(rows), batch_size):
            picked = order[start : start + batch_size]
            ids, mask = pad_batch([rows[i] for i in picked], pad_id)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            out[picked] = logits.float().cpu().numpy()
    model.train(was_training)
    return out


@dataclass
class FinetuneResult:
    """The fine-tuned model (best dev epoch) and what happened per epoch."""

    model: PreTrainedModel
    metrics: dict[str, float]
    history: list[dict[str, float]]


def _evaluate(model: PreTrainedModel, rows: list, labels: np.ndarray, pad_id: int, bs: int):
    logits = batched_logits(model, rows, pad_id, bs)
    predicted = logits.argmax(axis=1)
    present = sorted(set(labels.tolist()))
    return {
        "dev_accuracy": float(accuracy_score(labels, predicted)),
        "dev_macro_f1": float(f1_score(labels, predicted, labels=present, average="macro")),
    }


def finetune(
    model: PreTrainedModel,
    rows: list[list[int]],
    train: LabeledTexts,
    dev_rows: list[list[int]],
    dev: LabeledTexts,
    settings: TrainSettings,
    config: BertTrainConfig,
    pad_id: int,
) -> FinetuneResult:
    """Fine-tune `model` in place on encoded `rows`; returns it at its best dev epoch.

    Args:
        model: A sequence-classification model with `len(LABELS)` outputs, on its device.
        rows: Token ids per training text (`encode`).
        train: The training labels and optional per-example weights.
        dev_rows: Token ids per dev text; with none, the last epoch is kept.
        dev: The dev labels.
        settings: Epochs, batch size and seed.
        config: Learning rates, unfreezing pace, patience, weight decay.
        pad_id: The tokenizer's padding id.
    """
    if not rows:
        raise ValueError("no training texts")
    seed_everything(settings.seed)
    rng = np.random.default_rng(settings.seed)
    device = next(model.parameters()).device
    row_lengths = np.array([len(row) for row in rows])
    steps_per_epoch = math.ceil(len(rows) / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    unfreezing = ProgressiveUnfreezing(
        layer_groups(model), round(config.unfreeze_every * steps_per_epoch)
    )
    optimizer = torch.optim.AdamW(parameter_groups(model, config))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_warmup(total, config.warmup_fraction)
    )
    # Given weights already hold the class balance (see LabeledTexts.weights); only bare labels
    # are balanced here, so the correction is never applied twice.
    example_weights = (
        torch.as_tensor(train.weights, dtype=torch.float32)
        if train.weights is not None
        else class_weights(train.labels)[torch.as_tensor(train.labels, dtype=torch.long)]
    )
    labels = torch.as_tensor(train.labels, dtype=torch.long)
    best, best_state, stale, history, step = -1.0, None, 0, [], 0
    model.train()
    for epoch in range(settings.epochs):
        running = 0.0
        # Batches of similar length: a short review is not padded to the longest one.
        for batch in length_batches(row_lengths, settings.batch_size, rng):
            unfreezing.apply(step)
            picked = torch.as_tensor(batch, dtype=torch.long)
            ids, mask = pad_batch([rows[i] for i in batch], pad_id)
            target = labels[picked].to(device)
            with mixed_precision(device):
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            nll = nn.functional.cross_entropy(logits.float(), target, reduction="none")
            weight = example_weights[picked].to(device)
            loss = (nll * weight).sum() / weight.sum().clamp_min(1e-8)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            schedule.step()
            running += float(loss.detach())
            step += 1
        record = {"epoch": epoch + 1, "train_loss": running / steps_per_epoch}
        record["unfrozen_groups"] = unfreezing.unfrozen
        if dev_rows:
            record |= _evaluate(model, dev_rows, dev.labels, pad_id, config.predict_batch_size)
        history.append(record)
        log.info("bert epoch %s", record)
        if not dev_rows:
            continue
        if record["dev_macro_f1"] > best:
            best, stale = record["dev_macro_f1"], 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    for param in model.parameters():
        param.requires_grad_(True)
    if best_state is not None:
        model.load_state_dict(best_state)
    chosen = max(history, key=lambda r: r.get("dev_macro_f1", -1.0)) if dev_rows else history[-1]
    metrics = {k: float(v) for k, v in chosen.items()}
    metrics["best_epoch"] = metrics.pop("epoch")
    return FinetuneResult(model=model, metrics=metrics, history=history)
