"""Built-in targets plugins (one module per component)."""
