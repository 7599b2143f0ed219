"""The label cache: a rerun over the same texts with the same settings makes no calls.

Stored in a SQLite file under the warehouse folder (`llm_cache.sqlite`), not in the lakehouse:
answers are written one by one from several worker threads the moment they arrive, so a crash
or a budget stop keeps every label already paid for; a lakehouse commit per answer would create
a snapshot per answer and would have to wait for the single-writer pool. The CLI uses the same
file without touching the lake. WAL mode lets a CLI run and a pipeline run share it.

Only schema-valid labels are cached; invalid answers and errors are always retried.
The key covers everything that can change an answer: the text's hash, provider, model, prompt
version and generation parameters (refuel-ai/autolabel#131 shows what happens when it does not).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
create table if not exists llm_label_cache (
    cache_key text primary key,
    text_hash text not null,
    provider text not null,
    model text not null,
    prompt_version text not null,
    params text not null,
    label text not null,
    confidence real not null,
    rationale text not null,
    raw_item text not null,
    created_at text not null
)
"""


@dataclass(frozen=True)
class CachedLabel:
    """A label served from the cache."""

    label: str
    confidence: float
    rationale: str
    raw_item: str


def cache_key(
    text_hash: str, provider: str, model: str, prompt_version: str, params: dict[str, Any]
) -> str:
    """The cache key of one text under one labeling configuration."""
    material = json.dumps(
        [text_hash, provider, model, prompt_version, params], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class LabelCache:
    """A thread-safe SQLite cache of valid labels."""

    def __init__(self, path: Path):
        """Open (creating if needed) the cache file at `path`."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock:
            self._con.execute("pragma journal_mode=wal")
            self._con.execute("pragma busy_timeout=30000")
            self._con.execute(_SCHEMA)
            self._con.commit()

    def get(self, key: str) -> CachedLabel | None:
        """The cached label for `key`, if any."""
        with self._lock:
            row = self._con.execute(
                "select label, confidence, rationale, raw_item from llm_label_cache "
                "where cache_key = ?",
                (key,),
            ).fetchone()
        return CachedLabel(row[0], float(row[1]), row[2], row[3]) if row else None

    def put(
        self,
        key: str,
        *,
        text_hash: str,
        provider: str,
        model: str,
        prompt_version: str,
        params: dict[str, Any],
        label: CachedLabel,
    ) -> None:
        """Store a valid label (first writer wins; a key's label never changes)."""
        with self._lock:
            self._con.execute(
                "insert or ignore into llm_label_cache values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    text_hash,
                    provider,
                    model,
                    prompt_version,
                    json.dumps(params, sort_keys=True),
                    label.label,
                    label.confidence,
                    label.rationale,
                    label.raw_item,
                    datetime.now(UTC).isoformat(),
                ),
            )
            self._con.commit()

    def __len__(self) -> int:
        """Number of cached labels."""
        with self._lock:
            row = self._con.execute("select count(*) from llm_label_cache").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._con.close()
