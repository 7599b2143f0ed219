"""Label refinement (self-training): refined_labels, its rules, convergence and the round log."""
