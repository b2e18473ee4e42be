"""Built-in observer plugins: experiment trackers switched on per run with ``--observe``."""
