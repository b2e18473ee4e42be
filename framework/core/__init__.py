"""Foundation: the plugin system (hook specifications, registry, entry-point loader), configuration
records and the installation's defaults, errors, numerics shared by the engine and the plugins.
Imports nothing else of unlearnkit.
"""
