"""Where fine-tuning starts: a configured directory, a hub id, or the newest pre-trained version."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file, save_file

from sentiment_assets.lib.models.base import LabeledTexts, ModelLoadError
from sentiment_assets.lib.models.bert import BertTrainConfig, train
from sentiment_assets.lib.models.bert.checkpoints import PRETRAINED, resolve_base
from sentiment_assets.lib.models.bert.tokenizer import vocabulary_hash
from sentiment_assets_tests.bert.tiny import TINY_FINETUNE, TINY_SETTINGS, labeled

ONE_EPOCH = replace(TINY_SETTINGS, epochs=1)


def _small(frame: pd.DataFrame, split: str, n: int) -> LabeledTexts:
    rows = labeled(frame, split)
    return LabeledTexts(rows.texts[:n], rows.labels[:n])


def test_a_configured_local_checkpoint_directory_is_fine_tuned(
    tiny_pretrained: Path, nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    base = tmp_path / "my-korean-bert"
    shutil.copytree(tiny_pretrained, base)
    config = replace(TINY_FINETUNE, base_checkpoint=str(base))
    member = train(
        _small(nsmc_binary, "train", 64), _small(nsmc_binary, "dev", 32), ONE_EPOCH, config
    )
    assert member.info["base"] == f"base:{base}"
    from transformers import AutoTokenizer

    assert member.vocabulary_hash == vocabulary_hash(AutoTokenizer.from_pretrained(base))
    assert member.model.config.hidden_size == 32


def test_the_newest_pretrained_version_is_used_when_nothing_is_configured(
    tiny_pretrained: Path, nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    for version in ("20260101T000000000000Z", "20260301T000000000000Z"):
        shutil.copytree(tiny_pretrained, models / PRETRAINED / version)
    (models / PRETRAINED / ".20260401T000000000000Z.staging").mkdir()  # a crashed run
    config = replace(TINY_FINETUNE, use_pretrained_asset=True, models_root=models)
    member = train(
        _small(nsmc_binary, "train", 64), _small(nsmc_binary, "dev", 32), ONE_EPOCH, config
    )
    assert member.info["base"] == f"{PRETRAINED}:20260301T000000000000Z"


def test_without_any_checkpoint_a_small_bert_is_pretrained_first(
    nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    config = replace(
        TINY_FINETUNE,
        use_pretrained_asset=True,
        models_root=tmp_path / "empty",
        pretrain=replace(TINY_FINETUNE.pretrain, steps=5),
    )
    member = train(
        _small(nsmc_binary, "train", 64), _small(nsmc_binary, "dev", 32), ONE_EPOCH, config
    )
    assert member.info["base"] == "pretrained on the training texts"
    assert member.model.config.hidden_size == TINY_FINETUNE.pretrain.hidden_size


def test_an_uncached_hub_id_fails_fast_and_clearly_when_offline(
    nsmc_binary: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.perf_counter()
    with pytest.raises(ModelLoadError) as caught:
        resolve_base("klue/bert-base", allow_download=False)
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert "'klue/bert-base'" in message and "not in the local Hugging Face cache" in message
    assert "directory" in message

    config = replace(TINY_FINETUNE, base_checkpoint="klue/bert-base", allow_download=False)
    with pytest.raises(ModelLoadError, match="klue/bert-base"):
        train(_small(nsmc_binary, "train", 8), _small(nsmc_binary, "dev", 8), ONE_EPOCH, config)


class _NoSuchRepo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", "RepoNotFound")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b'{"error": "Repository not found"}')

    do_GET = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hub_without_repos() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoSuchRepo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_failed_hub_download_becomes_a_clear_error(
    hub_without_repos: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelLoadError) as caught:
        resolve_base("someone/korean-bert", hub_endpoint=hub_without_repos)
    message = str(caught.value)
    assert "could not download BERT base 'someone/korean-bert'" in message
    assert "local directory" in message


def test_a_missing_directory_or_one_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_base(str(tmp_path / "no-such-checkpoint"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="holds no weights"):
        resolve_base(str(tmp_path / "empty"))


def test_a_checkpoint_missing_encoder_weights_is_refused(
    tiny_pretrained: Path, nsmc_binary: pd.DataFrame, tmp_path: Path
) -> None:
    base = tmp_path / "partial"
    shutil.copytree(tiny_pretrained, base)
    state = load_file(base / "model.safetensors")
    save_file({k: v for k, v in state.items() if ".layer.0." not in k}, base / "model.safetensors")
    config = replace(TINY_FINETUNE, base_checkpoint=str(base))
    with pytest.raises(ModelLoadError, match=r"lacks \d+ encoder weights"):
        train(_small(nsmc_binary, "train", 8), _small(nsmc_binary, "dev", 8), ONE_EPOCH, config)


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMENT_BERT_BASE", "klue/bert-base")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = BertTrainConfig.from_env()
    assert config.base_checkpoint == "klue/bert-base" and not config.allow_download
    # A real pre-trained encoder is fine-tuned gently; our own small one is not.
    assert config.encoder_lr == 3e-5 and config.unfreeze_every > 0
    monkeypatch.delenv("SENTIMENT_BERT_BASE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    config = BertTrainConfig.from_env()
    assert config.base_checkpoint is None and config.allow_download
    assert config.encoder_lr < config.head_lr
    assert config.unfreeze_every == 0 and config.encoder_lr > 3e-5
