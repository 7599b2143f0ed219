"""The BERT member: own WordPiece tokenizer, masked-LM pre-training, careful fine-tuning."""

from sentiment_assets.lib.models.bert.finetune import BertTrainConfig
from sentiment_assets.lib.models.bert.member import BertMember
from sentiment_assets.lib.models.bert.pretrain import PretrainConfig, pretrain
from sentiment_assets.lib.models.bert.training import train

__all__ = ["BertMember", "BertTrainConfig", "PretrainConfig", "pretrain", "train"]
