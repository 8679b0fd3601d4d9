"""Built-in model plugins; installed as `harness.models`. Each module defines `MODEL = Model(...)`."""
