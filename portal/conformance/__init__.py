"""Hardware-backend conformance: runs, their results and the reports the marketplace verifies."""
