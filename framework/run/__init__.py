"""The run: resolve a config (every contract checked before training), get the reference models,
unlearn, evaluate, write the run folder; chained requests and the deletion report. Builds on the
layers below; the applications build on it.
"""
