"""Built-in models plugins (one module per component)."""
