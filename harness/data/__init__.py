"""Loaders that turn data shipped in packages (and, later, user files) into `Dataset` objects."""
