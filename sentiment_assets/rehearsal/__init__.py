"""A rehearsal of the self-improving loop in a temporary deployment.

What the loop's end-to-end test and `bench/bench_loop.py` both run: a throwaway DAGSTER_HOME,
lakehouse and models folder with a real `dagster-daemon` (`deployment`), and the steps a user
takes in it (`scenario`): a first champion, a crawl of the replay site, reviews over the API.
It lives in the package, not the tests, so the benchmark measures the same scenario without
importing test code.
"""
