"""Masked-LM pre-training of a small BERT on our own texts, tokenizer included.

No pretrained weights can be downloaded here, so the encoder learns Korean from the corpus
itself: a WordPiece vocabulary, then BERT's masked-LM objective (15% of tokens chosen; 80% of
those replaced by [MASK], 10% by a random token, 10% kept). The checkpoint directory is a plain
Hugging Face one (config.json, model.safetensors, tokenizer files), so fine-tuning loads it
exactly like any hub checkpoint.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerBase

from sentiment_assets.lib.models.base import TrainSettings
from sentiment_assets.lib.models.bert.runtime import (
    linear_warmup,
    pad_batch,
    pick_device,
    quiet_transformers,
    seed_everything,
)
from sentiment_assets.lib.models.bert.tokenizer import (
    encode,
    special_id,
    train_tokenizer,
    vocabulary_hash,
)
from sentiment_assets.lib.models.precision import mixed_precision
from sentiment_assets.lib.models.recurrent import length_batches

log = logging.getLogger(__name__)

PRETRAINING_FILE = "pretraining.json"
"""Loss curve, timing and configuration of the pre-training run, next to the weights."""


@dataclass(frozen=True)
class PretrainConfig:
    """Size and length of a pre-training run.

    Batch size, max length, device and seed come from `TrainSettings`.
    """

    vocab_size: int = 8000
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 512
    steps: int = 600
    learning_rate: float = 5e-4
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    min_frequency: int = 2
    max_passes: float | None = 10.0
    """Stop after this many passes over the texts if that comes before `steps`: a small corpus
    (the training texts of one run) is not worth thousands of steps."""
    initializer_range: float | None = None
    """Weight init std; None scales BERT-base's 0.02 at hidden 768 to this width (0.02 is too
    small for a narrow model: its residual stream then ignores the input for many steps)."""
    max_positions: int = 512
    """Position embeddings: fine-tuning may later use longer texts than pre-training did."""


def mask_tokens(
    ids: torch.Tensor,
    attention: torch.Tensor,
    *,
    mask_id: int,
    first_regular_id: int,
    vocab_size: int,
    probability: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: returns (corrupted ids, labels with -100 where nothing is predicted).

    [CLS], [SEP] and padding are never chosen; ids below `first_regular_id` are specials.
    """
    candidates = attention.bool() & (ids >= first_regular_id)
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & candidates
    if not chosen.any() and candidates.any():
        # A batch with nothing to predict would give a NaN loss; predict one token instead.
        chosen.view(-1)[candidates.view(-1).nonzero()[0]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=generator)
    corrupted = ids.clone()
    corrupted[chosen & (roll < 0.8)] = mask_id
    random_ids = torch.randint(first_regular_id, vocab_size, ids.shape, generator=generator)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    corrupted[swap] = random_ids[swap]
    return corrupted, labels


def _encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_len: int) -> list:
    rows = encode(tokenizer, texts, max_len)
    # [CLS] [SEP] alone carries nothing to predict.
    return [row for row in rows if len(row) > 2]


def planned_steps(config: PretrainConfig, texts: int, batch_size: int) -> int:
    """`config.steps`, capped at `config.max_passes` passes over the texts."""
    if config.max_passes is None:
        return config.steps
    return max(1, min(config.steps, math.ceil(config.max_passes * texts / batch_size)))


def masked_lm_loss(
    model: BertForMaskedLM,
    inputs: torch.Tensor,
    attention: torch.Tensor,
    labels: torch.Tensor,
) -> torch.Tensor:
    """Cross-entropy over the masked positions only.

    `BertForMaskedLM` would project every position onto the vocabulary; with 15% masked that
    is most of a small model's compute wasted, so the prediction head sees masked tokens only.
    """
    hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
    picked = labels != -100
    logits = model.cls(hidden[picked])
    return torch.nn.functional.cross_entropy(logits.float(), labels[picked])


def _model(config: PretrainConfig, vocab_size: int, pad_id: int) -> BertForMaskedLM:
    return BertForMaskedLM(
        BertConfig(
            vocab_size=vocab_size,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            intermediate_size=config.intermediate_size,
            max_position_embeddings=config.max_positions,
            pad_token_id=pad_id,
            initializer_range=config.initializer_range
            or 0.02 * math.sqrt(768 / config.hidden_size),
        )
    )


def pretrain(
    texts: Sequence[str],
    settings: TrainSettings,
    config: PretrainConfig,
    directory: Path | None = None,
) -> Path:
    """Train a tokenizer and a masked-LM BERT on `texts`; save both as a checkpoint directory.

    Args:
        texts: Unlabeled raw texts (normalised here).
        settings: Batch size, max length, device ("auto" uses CUDA when present) and seed.
        config: Vocabulary and model size, steps and optimiser settings.
        directory: Where to save (created if needed); a new temporary directory when None.

    Returns:
        The checkpoint directory, loadable with `from_pretrained`. It also holds
        `pretraining.json` with the per-step loss curve and timings.
    """
    if config.hidden_size % config.num_heads:
        raise ValueError("hidden_size must be a multiple of num_heads")
    started = time.perf_counter()
    generator = seed_everything(settings.seed)
    device = pick_device(settings.device)
    tokenizer = train_tokenizer(
        texts, vocab_size=config.vocab_size, min_frequency=config.min_frequency
    )
    rows = _encode(tokenizer, texts, settings.max_len)
    if not rows:
        raise ValueError("no text has any token to pre-train on")
    pad_id, mask_id = special_id(tokenizer, "pad"), special_id(tokenizer, "mask")
    with device:
        model = _model(config, len(tokenizer), pad_id)
    steps = planned_steps(config, len(rows), settings.batch_size)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_warmup(steps, config.warmup_fraction)
    )
    rng = np.random.default_rng(settings.seed)
    row_lengths = np.array([len(row) for row in rows])
    # Passes over the texts in batches of similar length (no padding to the longest review).
    pending: list[np.ndarray] = []
    losses = []
    model.train()
    for step in range(steps):
        if not pending:
            pending = length_batches(row_lengths, settings.batch_size, rng)
        picked = pending.pop().tolist()
        ids, attention = pad_batch([rows[i] for i in picked], pad_id)
        inputs, labels = mask_tokens(
            ids,
            attention,
            mask_id=mask_id,
            first_regular_id=max(tokenizer.all_special_ids) + 1,
            vocab_size=len(tokenizer),
            probability=config.mlm_probability,
            generator=generator,
        )
        with mixed_precision(device):
            loss = masked_lm_loss(model, inputs.to(device), attention.to(device), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if step % 100 == 0 or step == steps - 1:
            log.info("masked-LM step %d/%d loss %.3f", step + 1, steps, losses[-1])
    directory = Path(directory or tempfile.mkdtemp(prefix="bert_pretrained."))
    directory.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    report = {
        "config": asdict(config),
        "batch_size": settings.batch_size,
        "max_len": settings.max_len,
        "seed": settings.seed,
        "device": device.type,
        "texts": len(rows),
        "tokens": sum(len(row) for row in rows),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocabulary_hash": vocabulary_hash(tokenizer),
        "seconds": round(time.perf_counter() - started, 3),
        "steps": steps,
        "losses": [round(loss, 5) for loss in losses],
    }
    (directory / PRETRAINING_FILE).write_text(json.dumps(report, indent=1))
    return directory


def read_report(directory: Path) -> dict:
    """The `pretraining.json` of a checkpoint written by `pretrain`."""
    return json.loads((directory / PRETRAINING_FILE).read_text())
