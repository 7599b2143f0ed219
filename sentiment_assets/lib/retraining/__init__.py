"""Retraining from refined labels and human feedback: the data mix, member strategies, a round."""
