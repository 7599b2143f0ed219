"""The labeled base corpus: where it comes from, how ratings become labels, how it is sampled."""
