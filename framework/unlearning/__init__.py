"""Unlearning: the method context and loop, the method base classes, parameter selection and the
shared frozen prefix. Builds on models, data and core; never on evaluation or the run.
"""
