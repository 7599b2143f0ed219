"""How each member is retrained when a new labeled chunk arrives, and why.

The seeds' advice (DESIGN §4): retraining is not "train everything again from scratch" but a
per-member choice that keeps what the large base corpus taught and adapts to the new chunk at a
fraction of the cost. The members' own trainers implement the mechanics (`init_from` in
`TrainSettings`); this table decides, per member, whether to continue from the champion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sentiment_assets.lib.models.base import TrainSettings


@dataclass(frozen=True)
class Strategy:
    """One member's retraining mode."""

    member: str
    mode: str
    """incremental, full, partial or fine-tune (recorded with each version)."""
    continue_from_champion: bool


STRATEGIES: dict[str, Strategy] = {
    # Lexicon: incremental dictionary update. Word scores from the new chunk are blended into
    # the champion's (0.7 old + 0.3 new, `Lexicon.updated`) and unseen words are added: one
    # noisy chunk cannot overturn a word's polarity learned from the whole base corpus, yet new
    # slang (patch names, job nicknames) enters at once. Counting is cheap, and every version
    # is kept as its own directory so the word-level history stays auditable.
    "lexicon": Strategy("lexicon", "incremental", continue_from_champion=True),
    # LSTM: full retrain. A small unidirectional LSTM is fast to train from scratch, and a
    # fresh vocabulary picks up the new chunk's morphemes; exponential learning-rate decay and
    # dropout (in `lstm.train`) keep the short run stable. It is the ensemble's baseline, so it
    # must not inherit the other members' drift.
    "lstm": Strategy("lstm", "full", continue_from_champion=False),
    # BiLSTM: partial retrain from the champion. The embedding (and so the vocabulary) is
    # frozen so the word representations learned on the base corpus survive a small, noisier
    # chunk; only the recurrent and dense layers adapt, with gradients clipped to norm 1.0
    # (`bilstm.train`). Far cheaper than the from-scratch run and less prone to forgetting.
    "bilstm": Strategy("bilstm", "partial", continue_from_champion=True),
    # BERT: fine-tune the champion's classifier further, with a lower encoder than head
    # learning rate, progressive unfreezing from the top layer, early stopping on dev and
    # weight decay 0.01 (`bert/finetune.py`): starting from a good optimum converges in an
    # epoch or two, where pre-training plus fine-tuning from scratch would cost hours.
    "bert": Strategy("bert", "fine-tune", continue_from_champion=True),
}

_DEFAULT = Strategy("?", "full", continue_from_champion=False)


def strategy_for(member: str) -> Strategy:
    """The member's strategy; members without an entry are retrained fully (the safe choice)."""
    return STRATEGIES.get(member, replace(_DEFAULT, member=member))


def retrain_settings(
    member: str, base: TrainSettings, champion_dirs: dict[str, Path]
) -> tuple[TrainSettings, Strategy]:
    """`base` with `init_from` set to the champion's version of `member` where it continues.

    Without a champion version of the member (first training, or a member added since), it
    trains from scratch and the returned strategy says `full`.
    """
    strategy = strategy_for(member)
    source = champion_dirs.get(member)
    if strategy.continue_from_champion and source is not None:
        return replace(base, init_from=source), strategy
    return replace(base, init_from=None), replace(strategy, mode="full")
