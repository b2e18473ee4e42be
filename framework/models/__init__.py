"""Models: the model cache (train or load a reference model once), safetensors weights, a user's own
weights, the training loop, and the layer layout selectors group parameters by. Builds on data and core.
"""
