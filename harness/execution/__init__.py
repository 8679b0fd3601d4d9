"""harness.execution."""
