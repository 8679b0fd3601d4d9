"""Built-in model plugins, installed as `harness.models`; each defines `MODEL = Model(...)`."""
