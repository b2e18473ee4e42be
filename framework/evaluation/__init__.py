"""Evaluation: every model's outputs on every split, computed once and shared by the metric plugins.
Builds on models, data and core; knows nothing of the unlearning loop or the run.
"""
