"""An Inven-shaped site on 127.0.0.1 for offline crawls, tests and benchmarks."""
