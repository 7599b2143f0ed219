"""The stacked BiLSTM member in PyTorch: training, prediction and storage.

Retraining is partial when `settings.init_from` names a saved version (the seeds' advice for
this member): the embedding is frozen so the word representations learned on the large base
corpus survive a small, noisier new chunk, and only the LSTM and dense layers adapt to new
sequence patterns. The vocabulary is frozen with it, which means morphemes first seen in the
new data map to UNK until the next from-scratch training. Gradients are clipped to norm 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Literal, Self

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.metrics import accuracy_score, f1_score
from torch.nn import functional

from sentiment_assets.lib.models.base import (
    LABELS,
    LabeledTexts,
    ModelLoadError,
    TrainSettings,
    check_proba,
)
from sentiment_assets.lib.models.bilstm_net import BiLstmConfig, BiLstmNet
from sentiment_assets.lib.models.precision import mixed_precision
from sentiment_assets.lib.models.recurrent import (
    CONFIG_FILE,
    example_weights,
    length_batches,
    read_saved,
    require_trainable,
    trim,
    write_config,
)
from sentiment_assets.lib.models.vocab import Vocabulary, lengths

NAME = "bilstm"
WEIGHTS_FILE = "model.safetensors"
_FORMAT = 1
_PREDICT_BATCH = 256
Device = Literal["auto", "cpu", "cuda"]


def resolve_device(choice: Device) -> torch.device:
    """CUDA when present and allowed; an explicit "cuda" without CUDA is an error."""
    if choice == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if choice == "cuda":
        raise ValueError("device 'cuda' was requested but CUDA is not available")
    return torch.device("cpu")


class BiLstmMember:
    """A trained BiLSTM network with its vocabulary."""

    name = NAME

    def __init__(
        self,
        net: BiLstmNet,
        vocab: Vocabulary,
        config: BiLstmConfig,
        max_len: int,
        metrics: dict[str, float] | None = None,
    ):
        self.net = net
        self.vocab = vocab
        self.config = config
        self.max_len = max_len
        self.metrics = dict(metrics or {})

    @property
    def vocabulary_hash(self) -> str:
        """The vocabulary's hash, for the version manifest."""
        return self.vocab.hash

    @property
    def device(self) -> torch.device:
        """Where the network's weights live."""
        return next(self.net.parameters()).device

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, rows in LABELS order, in the order of `texts`."""
        return self._predict_ids(self.vocab.encode_texts(texts, self.max_len))

    def _predict_ids(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros((len(ids), len(LABELS)), dtype=np.float64)
        row_lengths = lengths(ids)
        self.net.eval()
        with torch.inference_mode():
            for rows in length_batches(row_lengths, _PREDICT_BATCH):
                logits = self._logits(ids, row_lengths, rows)
                out[rows] = torch.softmax(logits.double(), dim=1).cpu().numpy()
        return check_proba(out, len(ids))

    def _logits(
        self, ids: np.ndarray, row_lengths: np.ndarray, rows: np.ndarray, *, mixed: bool = False
    ) -> torch.Tensor:
        """Logits of `rows`; `mixed` (training) runs bfloat16 where the hardware supports it.

        Prediction stays in float32, so a text's probabilities never depend on which other
        texts share its batch.
        """
        batch = torch.from_numpy(trim(ids, rows, row_lengths)).long().to(self.device)
        if not mixed:
            return self.net(batch, torch.from_numpy(row_lengths[rows]))
        with mixed_precision(self.device):
            logits = self.net(batch, torch.from_numpy(row_lengths[rows]))
        return logits.float()

    def save(self, directory: Path) -> None:
        """Write the weights (safetensors), the vocabulary and `config.json` into `directory`."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        self.vocab.save(directory)
        write_config(
            directory,
            {
                "member": NAME,
                "format": _FORMAT,
                "max_len": self.max_len,
                "vocab_size": len(self.vocab),
                "config": asdict(self.config),
                "metrics": self.metrics,
            },
        )

    @classmethod
    def load(cls, directory: Path, device: Device = "auto") -> Self:
        """Rebuild from `directory`; ModelLoadError naming the file when anything is off."""
        saved = read_saved(Path(directory), NAME, BiLstmConfig, WEIGHTS_FILE)
        config, vocab, weights = saved.config, saved.vocab, saved.weights
        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelLoadError(f"{weights} is corrupt or unreadable: {exc}") from exc
        embedding = state.get("embedding.weight")
        if embedding is None or embedding.shape[0] != len(vocab):
            rows = None if embedding is None else embedding.shape[0]
            raise ModelLoadError(
                f"{weights} has {rows} embedding rows but the vocabulary beside it has {len(vocab)}"
            )
        net = BiLstmNet(len(vocab), config)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelLoadError(f"{weights} does not match {CONFIG_FILE}: {exc}") from exc
        net.to(resolve_device(device)).eval()
        return cls(net, vocab, config, saved.max_len, saved.metrics)


def train(
    train: LabeledTexts,
    dev: LabeledTexts,
    settings: TrainSettings,
    config: BiLstmConfig | None = None,
) -> BiLstmMember:
    """Train from scratch, or continue `settings.init_from` with the embedding frozen.

    On a partial retrain the architecture and vocabulary come from the saved version; from
    `config`, only the optimisation knobs (learning rate, clipping, patience) apply. Early
    stopping keeps the weights of the epoch with the lowest weighted dev loss.
    """
    require_trainable(train, dev)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    device = resolve_device(settings.device)
    partial = settings.init_from is not None
    if settings.init_from is not None:
        base = BiLstmMember.load(settings.init_from, device="cpu")
        vocab, net = base.vocab, base.net
        config = base.config if config is None else _optimisation_of(config, base.config)
        net.embedding.weight.requires_grad_(False)
    else:
        config = config or BiLstmConfig()
        vocab = Vocabulary.from_texts(
            train.texts, max_size=config.vocab_size, min_count=config.min_count
        )
        net = BiLstmNet(len(vocab), config)
    net.to(device)
    member = BiLstmMember(net, vocab, config, settings.max_len)
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.learning_rate)
    train_ids = vocab.encode_texts(train.texts, settings.max_len)
    dev_ids = vocab.encode_texts(dev.texts, settings.max_len)
    train_labels, train_weights = _targets(train, device)
    dev_labels, dev_weights = _targets(dev, device)
    train_lengths = lengths(train_ids)
    best_loss, best_state, epochs, stale = float("inf"), None, 0, 0
    for epoch in range(settings.epochs):
        epochs += 1
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * config.decay_rate**epoch
        net.train()
        for rows in length_batches(train_lengths, settings.batch_size, rng):
            index = torch.as_tensor(rows, device=device)
            logits = member._logits(train_ids, train_lengths, rows, mixed=True)
            loss = _weighted_loss(logits, train_labels[index], train_weights[index])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.clip_norm)
            optimizer.step()
        dev_loss = _dev_loss(member, dev_ids, dev_labels, dev_weights)
        if dev_loss < best_loss:
            best_loss, stale = dev_loss, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    predicted = member._predict_ids(dev_ids).argmax(axis=1)
    member.metrics = {
        "dev_accuracy": float(accuracy_score(dev.labels, predicted)),
        "dev_macro_f1": float(f1_score(dev.labels, predicted, average="macro")),
        "dev_loss": best_loss,
        "epochs": float(epochs),
        "partial": float(partial),
    }
    return member


def _optimisation_of(config: BiLstmConfig, saved: BiLstmConfig) -> BiLstmConfig:
    return replace(
        saved,
        learning_rate=config.learning_rate,
        decay_rate=config.decay_rate,
        clip_norm=config.clip_norm,
        patience=config.patience,
    )


def _targets(data: LabeledTexts, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.as_tensor(np.asarray(data.labels, dtype=np.int64), device=device)
    weights = torch.as_tensor(example_weights(data), device=device)
    return labels, weights


def _weighted_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    losses = functional.cross_entropy(logits, labels, reduction="none")
    return (losses * weights).sum() / weights.sum().clamp(min=1e-12)


def _dev_loss(
    member: BiLstmMember, ids: np.ndarray, labels: torch.Tensor, weights: torch.Tensor
) -> float:
    member.net.eval()
    row_lengths = lengths(ids)
    total, weight = 0.0, 0.0
    with torch.inference_mode():
        for rows in length_batches(row_lengths, _PREDICT_BATCH):
            index = torch.as_tensor(rows, device=labels.device)
            losses = functional.cross_entropy(
                member._logits(ids, row_lengths, rows), labels[index], reduction="none"
            )
            total += float((losses * weights[index]).sum())
            weight += float(weights[index].sum())
    return total / max(weight, 1e-12)
