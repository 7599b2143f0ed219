"""Fixtures shared by the model tests: a real NSMC sample and lexicons trained on it once."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
import pytest

from sentiment_assets.lib.corpus.load import CorpusSample, labeled, load_corpus
from sentiment_assets.lib.models.base import LabeledTexts
from sentiment_assets.lib.models.lexicon import Lexicon
from sentiment_assets_tests.conftest import NSMC_PATH


@dataclass(frozen=True)
class NsmcSample:
    frame: pd.DataFrame
    train: LabeledTexts
    dev: LabeledTexts
    test: pd.DataFrame


@pytest.fixture(scope="session")
def nsmc_sample() -> NsmcSample:
    """4,000 train, 800 dev and 800 test reviews of the real corpus (skips where absent)."""
    if not NSMC_PATH.is_file():
        pytest.skip(f"real NSMC data not found at {NSMC_PATH}")
    frame = load_corpus(str(NSMC_PATH), CorpusSample(train=4000, evaluation=800, seed=5))
    test = pd.DataFrame(frame.loc[frame["split"] == "test"]).reset_index(drop=True)
    return NsmcSample(frame, labeled(frame, "train"), labeled(frame, "dev"), test)


@pytest.fixture(scope="session")
def nsmc_lexicon(nsmc_sample: NsmcSample) -> Lexicon:
    """A lexicon fitted on the NSMC sample and scaled on its dev split."""
    lexicon = Lexicon.fit(nsmc_sample.train)
    lexicon.fit_scale(nsmc_sample.dev)
    return lexicon


class _Files(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def nsmc_server() -> Iterator[str]:
    """A local HTTP server laid out like NSMC's GitHub repository (ratings files, raw/)."""
    texts = {
        "/ratings_train.txt": "id\tdocument\tlabel\n"
        + "".join(f"{i}\t문장 {i} {'좋다' if i % 2 else '싫다'}\t{i % 2}\n" for i in range(60)),
        "/ratings_test.txt": "id\tdocument\tlabel\n100\t정말 좋다\t1\n101\t정말 싫다\t0\n",
        "/raw/7.json": json.dumps(
            [
                {"review": "최고", "rating": "10", "review_id": "1", "movie_id": "7"},
                {"review": "그냥 그럼", "rating": "6", "review_id": "2", "movie_id": "7"},
                {"review": "   ", "rating": "1", "review_id": "3", "movie_id": "7"},
            ],
            ensure_ascii=False,
        ),
    }
    _Files.files = {k: v.encode() for k, v in texts.items()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
