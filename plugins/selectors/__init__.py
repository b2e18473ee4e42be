"""Built-in selectors plugins (one module per component)."""
