"""Built-in plugins of unlearnkit, each registered through its own entry point like any third-party plugin."""
