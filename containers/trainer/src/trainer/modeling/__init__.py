"""Honest modelling: feature table, walk-forward splits, training, card, promotion."""

from trainer.modeling.dataset import build_feature_table
from trainer.modeling.leak import leak_check
from trainer.modeling.promotion import PromotionDecision, decide_promotion
from trainer.modeling.splits import Fold, walk_forward_splits
from trainer.modeling.training import TrainingOutcome, train_version

__all__ = [
    "Fold",
    "PromotionDecision",
    "TrainingOutcome",
    "build_feature_table",
    "decide_promotion",
    "leak_check",
    "train_version",
    "walk_forward_splits",
]
