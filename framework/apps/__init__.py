"""Applications on top of the engine: the CLI, the Python API, sweeps and their result store,
reports, tuning. Nothing below imports from here (import-linter checks it in CI).
"""
