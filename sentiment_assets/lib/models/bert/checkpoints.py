"""Where a BERT's starting weights come from: a local directory, a hub id, or our own pre-training.

Pre-trained checkpoints live as versions under `<models>/bert_pretrained/<version>/`, written
to a hidden staging directory and renamed into place so a crash never leaves a half-written
checkpoint that fine-tuning could pick up.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sentiment_assets.lib.models.base import (
    Manifest,
    ModelLoadError,
    TrainSettings,
    new_version,
    versions,
)
from sentiment_assets.lib.models.bert.pretrain import PretrainConfig, pretrain, read_report
from sentiment_assets.lib.settings import PROJECT_ROOT

PRETRAINED = "bert_pretrained"
"""Folder under the models root, and the manifest's member name, of pre-trained checkpoints."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


def check_checkpoint_dir(directory: Path) -> Path:
    """Raise ModelLoadError naming the first missing piece of a Hugging Face checkpoint."""
    if not directory.is_dir():
        raise ModelLoadError(f"BERT checkpoint directory {directory} does not exist")
    if not (directory / "config.json").is_file():
        raise ModelLoadError(f"{directory / 'config.json'} is missing: not a model checkpoint")
    if not any((directory / name).is_file() for name in _WEIGHT_FILES):
        raise ModelLoadError(f"{directory} holds no weights (expected {_WEIGHT_FILES[0]})")
    if not any((directory / name).is_file() for name in _TOKENIZER_FILES):
        raise ModelLoadError(f"{directory} holds no tokenizer (expected {_TOKENIZER_FILES[0]})")
    return directory


def _looks_like_path(ref: str) -> bool:
    return ref.startswith(("/", "./", "../", "~")) or os.sep in ref.strip("/").replace("/", "", 1)


def resolve_base(ref: str, *, allow_download: bool = True, hub_endpoint: str | None = None) -> Path:
    """Turn a configured base checkpoint (local directory or hub id) into a local directory.

    A hub id is looked up in the local Hugging Face cache first; it is downloaded only when
    `allow_download` is true, and any failure (no network, unknown repository) becomes a
    ModelLoadError that says how to provide the checkpoint offline.

    Args:
        ref: A directory path, or a hub id such as "klue/bert-base".
        allow_download: Whether to contact the hub when the id is not cached.
        hub_endpoint: Hub URL (a mirror); None uses huggingface_hub's default.

    Returns:
        A directory holding config, weights and tokenizer.
    """
    local = Path(ref).expanduser()
    if not local.is_absolute() and not local.is_dir() and (PROJECT_ROOT / local).is_dir():
        local = PROJECT_ROOT / local
    if local.is_dir() or _looks_like_path(ref):
        return check_checkpoint_dir(local.resolve())
    if not _HUB_ID.match(ref):
        raise ModelLoadError(f"BERT base {ref!r} is neither an existing directory nor a hub id")
    # Imported here: only hub ids need it, and it reads its offline switch at import time.
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "vocab.txt", "*.model"]
    try:
        return check_checkpoint_dir(
            Path(snapshot_download(ref, allow_patterns=patterns, local_files_only=True))
        )
    except Exception as cached_miss:
        if not allow_download:
            raise ModelLoadError(
                f"BERT base {ref!r} is not in the local Hugging Face cache and hub downloads "
                "are switched off. Download it on a connected machine and point the base "
                "checkpoint at that directory."
            ) from cached_miss
    try:
        path = snapshot_download(ref, allow_patterns=patterns, endpoint=hub_endpoint)
    except Exception as exc:
        raise ModelLoadError(
            f"could not download BERT base {ref!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}). "
            "If this machine is offline, download the checkpoint elsewhere and point the base "
            "checkpoint at its local directory."
        ) from exc
    return check_checkpoint_dir(Path(path))


def newest_pretrained(models_root: Path) -> Path | None:
    """The newest complete `bert_pretrained` version, or None when there is none."""
    found = versions(models_root, PRETRAINED)
    return found[-1] if found else None


def save_pretrained_version(
    texts: Sequence[str],
    settings: TrainSettings,
    config: PretrainConfig,
    models_root: Path,
    *,
    snapshot_id: int | None,
    sources: dict[str, int] | None = None,
) -> Path:
    """Pre-train on `texts` and publish the checkpoint as a new version, atomically.

    Args:
        texts: Unlabeled texts.
        settings: Batch size, max length, device and seed.
        config: Model size and steps.
        models_root: The models folder; the version lands in `bert_pretrained/<version>/`.
        snapshot_id: Lakehouse snapshot the texts were read at, recorded in the manifest.
        sources: Texts per source table, recorded in the manifest.

    Returns:
        The final version directory.
    """
    version = new_version()
    parent = models_root / PRETRAINED
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=parent))
    try:
        pretrain(texts, settings, config, staging)
        report = read_report(staging)
        losses = report["losses"]
        tail = losses[-min(len(losses), 20) :]
        Manifest(
            member=PRETRAINED,
            version=version,
            vocabulary_hash=report["vocabulary_hash"],
            training_snapshot_id=snapshot_id,
            metrics={
                "mlm_loss_first": float(losses[0]),
                "mlm_loss_last20": float(sum(tail) / len(tail)),
                "seconds": float(report["seconds"]),
                "parameters": float(report["parameters"]),
            },
            config={**report["config"], "sources": sources or {}, "device": report["device"]},
        ).write(staging)
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        final = parent / version
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final
