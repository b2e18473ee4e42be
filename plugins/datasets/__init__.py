"""Built-in datasets plugins (one module per component)."""
