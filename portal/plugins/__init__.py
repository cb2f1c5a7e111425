"""Plugin projects: the folders a partner packages and publishes to the marketplace."""
