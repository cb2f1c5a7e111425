"""Signing in to the marketplace: OAuth 2.0 for native apps, tokens in the OS keyring."""
