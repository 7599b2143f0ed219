"""LLM labeling: prompt, answer schema, provider clients, retries, budget, cache and the engine.

Nothing here imports Dagster: the `labeled_chunks` asset and `sentiment label` share this code.
"""
