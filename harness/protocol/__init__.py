"""harness.protocol."""
