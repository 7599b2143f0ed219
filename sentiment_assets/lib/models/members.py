"""The registry of ensemble members: name → how to train and load it.

Each member module exposes `train(train, dev, settings) -> Member` and a member class with
`load(directory)`. Entries import their module lazily, so listing members (the Dagster code
location, `sentiment --help`) never pays for TensorFlow or torch, and a member whose module is
not installed in this checkout is simply not offered by `available_members`.

Adding a member is one entry in `MEMBERS`; its initial ensemble weight follows the design
(lexicon 0.10, LSTM 0.20, BiLSTM 0.35, BERT 0.35) and is re-fitted on dev.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sentiment_assets.lib.models.base import LabeledTexts, Member, MemberSpec, TrainSettings


@dataclass(frozen=True)
class _LazyTrainer:
    module: str

    def __call__(self, train: LabeledTexts, dev: LabeledTexts, settings: TrainSettings) -> Member:
        return importlib.import_module(self.module).train(train, dev, settings)


@dataclass(frozen=True)
class _LazyLoader:
    module: str
    member_class: str

    def __call__(self, directory: Path) -> Member:
        return getattr(importlib.import_module(self.module), self.member_class).load(directory)


def lazy_member(
    name: str, module: str, member_class: str, *, initial_weight: float, gpu: bool = False
) -> MemberSpec:
    """A MemberSpec whose `train` and `load` import `module` on first use."""
    return MemberSpec(
        name=name,
        train=_LazyTrainer(module),
        load=_LazyLoader(module, member_class),
        initial_weight=initial_weight,
        gpu=gpu,
    )


MEMBERS: dict[str, MemberSpec] = {
    "lexicon": lazy_member(
        "lexicon", "sentiment_assets.lib.models.lexicon", "Lexicon", initial_weight=0.10
    ),
    "lstm": lazy_member(
        "lstm", "sentiment_assets.lib.models.lstm", "LstmMember", initial_weight=0.20
    ),
    # PyTorch: uses CUDA when present, so it is scheduled like the other GPU members.
    "bilstm": lazy_member(
        "bilstm",
        "sentiment_assets.lib.models.bilstm",
        "BiLstmMember",
        initial_weight=0.35,
        gpu=True,
    ),
    # Fine-tunes the newest `bert_pretrained` checkpoint, else a base set by SENTIMENT_BERT_BASE
    # (local directory or hub id), else pre-trains a small BERT on the training texts first.
    "bert": lazy_member(
        "bert", "sentiment_assets.lib.models.bert", "BertMember", initial_weight=0.35, gpu=True
    ),
}


def _installed(spec: MemberSpec) -> bool:
    module = getattr(spec.train, "module", None)
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def available_members(names: Iterable[str] | None = None) -> dict[str, MemberSpec]:
    """Registered members whose code is present, in registry order, optionally only `names`.

    Raises:
        KeyError: a requested name is not registered or its module is missing.
    """
    present = {name: spec for name, spec in MEMBERS.items() if _installed(spec)}
    if names is None:
        return present
    wanted = list(names)
    missing = [n for n in wanted if n not in present]
    if missing:
        raise KeyError(f"unknown or unavailable members {missing}; available: {list(present)}")
    return {n: present[n] for n in wanted}
