"""Policy: identity, the one decision point, and the readers that enforce it."""
