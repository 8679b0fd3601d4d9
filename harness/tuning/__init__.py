"""harness.tuning."""
