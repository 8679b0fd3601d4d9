"""harness.store."""
