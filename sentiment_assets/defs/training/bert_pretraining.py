"""The pre-trained BERT every BERT fine-tuning starts from: our tokenizer + masked-LM weights."""

import dagster as dg
from pydantic import Field

from sentiment_assets.defs.lakehouse.resources import LakehouseResource
from sentiment_assets.defs.training.gpu import GPU_OP_TAGS, GPU_POOL
from sentiment_assets.defs.training.resources import ModelStoreResource


class BertPretrainingConfig(dg.Config):
    """Model size and run length; the defaults are tiny so `make demo` stays fast.

    A useful encoder wants hidden_size 256, num_layers 4, vocab_size 16000, max_len 128 and
    tens of thousands of steps on a GPU (see `sentiment_assets.lib.models.bert`).
    """

    vocab_size: int = 2000
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 128
    steps: int = 60
    max_passes: float | None = Field(
        default=10.0, description="Stop after this many passes over the texts if sooner."
    )
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_len: int = 64
    max_texts: int | None = Field(
        default=20000, description="Seeded sample of texts to pre-train on (None: all)."
    )
    device: str = Field(default="auto", description="auto (CUDA when present), cpu or cuda.")
    seed: int = 13


@dg.asset(
    group_name="training",
    deps=["base_corpus"],
    pool=GPU_POOL,
    op_tags=GPU_OP_TAGS,
    kinds={"pytorch"},
    description="One pre-trained BERT checkpoint per materialization "
    "(models/bert_pretrained/<version>/: WordPiece tokenizer, masked-LM weights, manifest with "
    "the lakehouse snapshot), trained on base_corpus train/dev texts plus raw_posts.",
)
def bert_pretrained(
    context: dg.AssetExecutionContext,
    config: BertPretrainingConfig,
    lakehouse: LakehouseResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Train the tokenizer and masked-LM on the lake's texts and publish a new version."""
    # Imported here: torch and transformers take seconds to load, the code location should not.
    from sentiment_assets.lib.models.base import Manifest, TrainSettings
    from sentiment_assets.lib.models.bert.checkpoints import PRETRAINED, save_pretrained_version
    from sentiment_assets.lib.models.bert.corpus import read_pretraining_texts
    from sentiment_assets.lib.models.bert.pretrain import PretrainConfig
    from sentiment_assets.lib.models.tracking import log_run

    if config.device not in ("auto", "cpu", "cuda"):
        raise dg.Failure(f"device must be auto, cpu or cuda, not {config.device!r}")
    with lakehouse.get().session() as lake:
        snapshot_id = lake.current_snapshot_id()
        try:
            texts, sources = read_pretraining_texts(
                lake, snapshot_id=snapshot_id, max_texts=config.max_texts, seed=config.seed
            )
        except ValueError as exc:
            raise dg.Failure(str(exc)) from exc
    if not texts:
        raise dg.Failure("base_corpus and raw_posts hold no text to pre-train on")
    settings = TrainSettings(
        batch_size=config.batch_size,
        max_len=config.max_len,
        device=config.device,  # type: ignore[arg-type]
        seed=config.seed,
    )
    pretrain_config = PretrainConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
        steps=config.steps,
        max_passes=config.max_passes,
        learning_rate=config.learning_rate,
    )
    path = save_pretrained_version(
        texts,
        settings,
        pretrain_config,
        model_store.root(),
        snapshot_id=snapshot_id,
        sources=sources,
    )
    manifest = Manifest.read(path)
    run_id = log_run(
        model_store.tracking_uri(),
        model_store.root(),
        run_name=f"{PRETRAINED} {manifest.version}",
        params={**manifest.config, "snapshot_id": snapshot_id, "texts": len(texts)},
        metrics=manifest.metrics,
        tags={"member": PRETRAINED, "version": manifest.version, "path": str(path)},
    )
    context.log.info("pre-trained BERT %s on %d texts at %s", manifest.version, len(texts), path)
    return dg.MaterializeResult(
        metadata={
            "version": manifest.version,
            "path": str(path),
            "snapshot_id": snapshot_id,
            "texts": len(texts),
            "texts_by_table": dg.MetadataValue.json(sources),
            "device": str(manifest.config.get("device")),
            "mlflow_run_id": run_id,
            **manifest.metrics,
        }
    )
