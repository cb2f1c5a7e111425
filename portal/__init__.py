"""AIC Partner Portal core: everything the CLI, the GUI and the tests share, with no Qt."""

__version__ = "0.1.0"
