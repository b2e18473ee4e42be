"""Built-in metrics plugins (one module per component)."""
