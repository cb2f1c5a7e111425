"""The local SQLite store: typed models, engine settings and migrations that run at start."""
