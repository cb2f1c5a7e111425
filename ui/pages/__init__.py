"""The pages of the navigation rail, one module each."""
