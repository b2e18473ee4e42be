"""Data: datasets as tensors, forget scenarios and their splits, forget lists, dataset readers,
duplicate and leak detection. Builds on core only.
"""
