"""Built-in task plugins; installed as `harness.tasks`. Each module defines `TASK = Task(...)`."""
