"""The HTTP serving API: predictions, feedback, the review queue."""
