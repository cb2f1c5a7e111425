"""Moving records between the local store and the marketplace."""
