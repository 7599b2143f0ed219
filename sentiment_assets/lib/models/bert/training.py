"""Training a BERT member: choose the starting checkpoint, then fine-tune it.

The `train` here is what the ensemble's member registry calls.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import ExitStack
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from sentiment_assets.lib.models.base import LABELS, LabeledTexts, ModelLoadError, TrainSettings
from sentiment_assets.lib.models.bert.checkpoints import newest_pretrained, resolve_base
from sentiment_assets.lib.models.bert.finetune import BertTrainConfig, finetune
from sentiment_assets.lib.models.bert.member import BertMember
from sentiment_assets.lib.models.bert.pretrain import pretrain
from sentiment_assets.lib.models.bert.runtime import (
    pick_device,
    quiet_transformers,
    seed_everything,
)
from sentiment_assets.lib.models.bert.tokenizer import encode, special_id
from sentiment_assets.lib.settings import Paths

_HEAD_KEY = re.compile(r"(^|\.)(classifier|pooler)\.")
"""Weights a base checkpoint may lack: the classification head is trained from scratch."""


def _from_checkpoint(directory: Path, device: torch.device):
    """Load a base checkpoint for classification; only the head may be newly initialised."""
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
            model, loading = AutoModelForSequenceClassification.from_pretrained(
                directory,
                local_files_only=True,
                num_labels=len(LABELS),
                id2label=dict(enumerate(LABELS)),
                label2id={label: i for i, label in enumerate(LABELS)},
                output_loading_info=True,
            )
    except Exception as exc:
        raise ModelLoadError(f"could not load the BERT checkpoint in {directory}: {exc}") from exc
    # A checkpoint missing encoder weights would silently fine-tune random layers.
    missing = [k for k in loading["missing_keys"] if not _HEAD_KEY.search(k)]
    if missing:
        raise ModelLoadError(
            f"the BERT checkpoint in {directory} lacks {len(missing)} encoder weights "
            f"(first: {missing[0]}); it is incomplete or of another architecture"
        )
    if len(tokenizer) > model.config.vocab_size:
        raise ModelLoadError(
            f"the tokenizer in {directory} has {len(tokenizer)} tokens but the model's "
            f"embedding only {model.config.vocab_size} rows"
        )
    return model.to(device), tokenizer


def _starting_point(
    train: LabeledTexts, settings: TrainSettings, config: BertTrainConfig, stack: ExitStack
) -> tuple[Path, str]:
    """The checkpoint to fine-tune and a note of where it came from (kept in the member)."""
    if config.base_checkpoint:
        path = resolve_base(
            config.base_checkpoint,
            allow_download=config.allow_download,
            hub_endpoint=config.hub_endpoint,
        )
        return path, f"base:{config.base_checkpoint}"
    if config.use_pretrained_asset:
        newest = newest_pretrained(config.models_root or Paths.from_env().models)
        if newest is not None:
            return newest, f"bert_pretrained:{newest.name}"
    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bert_pretrain.")))
    pretrain(train.texts, settings, config.pretrain, scratch)
    return scratch, "pretrained on the training texts"


def train(
    train: LabeledTexts,
    dev: LabeledTexts,
    settings: TrainSettings,
    config: BertTrainConfig | None = None,
) -> BertMember:
    """Fine-tune a BERT member; the `Trainer` the ensemble registers.

    Starts from `settings.init_from` (a saved BertMember: continue fine-tuning the champion)
    if set, else from `config.base_checkpoint` (local directory or hub id), else from the
    newest `bert_pretrained` version under the models folder, else pre-trains a small BERT on
    the training texts first.

    Args:
        train: Training texts, class indices and optional per-example weights.
        dev: Early-stopping and model-selection set (never the test split).
        settings: Epochs, batch size, max length, device and seed.
        config: BERT-specific settings; defaults read SENTIMENT_BERT_BASE.
    """
    config = config or BertTrainConfig.from_env()
    device = pick_device(settings.device)
    with ExitStack() as stack:
        if settings.init_from is not None:
            start = BertMember.load(settings.init_from, device=settings.device)
            model, tokenizer = start.model, start.tokenizer
            source = f"init_from:{settings.init_from}"
        else:
            path, source = _starting_point(train, settings, config, stack)
            seed_everything(settings.seed)
            model, tokenizer = _from_checkpoint(path, device)
    max_len = min(settings.max_len, int(model.config.max_position_embeddings))
    pad_id = special_id(tokenizer, "pad")
    result = finetune(
        model,
        encode(tokenizer, train.texts, max_len),
        train,
        encode(tokenizer, dev.texts, max_len),
        dev,
        settings,
        config,
        pad_id,
    )
    info = {"base": source, "metrics": result.metrics, "history": result.history}
    return BertMember(result.model, tokenizer, max_len=max_len, info=info)
