"""Built-in methods plugins (one module per component)."""
