"""Discovers task and model plugins: built-ins by walking packages, others by entry points.

Built-ins live in `tasks/` and `models/` (installed as `harness.tasks` and `harness.models`); each
module defines `TASK` or `MODEL`. Other distributions add plugins through the entry-point groups
`harness.tasks` and `harness.models`, each entry pointing at a module or straight at the object.
A broken built-in is our bug and raises; a broken third-party plugin warns, and raises only when it
is asked for by name. Duplicate names raise. Unknown names suggest the closest registered one.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from harness.contracts.model import Model
from harness.contracts.task import Task
from harness.errors import PluginError, UnknownNameError

__all__ = ["get_model", "get_task", "models", "refresh", "tasks"]

_KINDS = {
    "task": ("harness.tasks", "TASK", Task, "See 'harness list tasks'."),
    "model": ("harness.models", "MODEL", Model, "See 'harness list models'."),
}


class _Registry:
    """Plugins of one kind, with the errors of third-party plugins kept for later."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.broken: dict[str, str] = {}

    def add(self, item: Any, origin: str) -> None:
        if item.name in self.items:
            raise PluginError(
                f"Duplicate {self.kind} name {item.name!r}: defined by "
                f"{self.origins[item.name]} and by {origin}. Rename one of them."
            )
        self.items[item.name] = item
        self.origins[item.name] = origin

    def get(self, name: str) -> Any:
        if name in self.items:
            return self.items[name]
        if name in self.broken:
            raise PluginError(f"The {self.kind} plugin {name!r} is broken: {self.broken[name]}")
        raise UnknownNameError(self.kind, name, self.items, hint=_KINDS[self.kind][3])


def _plugin_of(module: ModuleType, kind: str) -> Any:
    _, attribute, cls, _ = _KINDS[kind]
    item = getattr(module, attribute, None)
    if not isinstance(item, cls):
        raise PluginError(
            f"Module {module.__name__!r} must define {attribute} = {cls.__name__}(...); "
            f"found {type(item).__name__}."
        )
    stem = module.__name__.rsplit(".", 1)[-1]
    if item.name != stem:
        raise PluginError(
            f"Module {module.__name__!r} defines the {kind} {item.name!r}; "
            f"the name must equal the module name {stem!r}."
        )
    return item


def _discover(kind: str) -> _Registry:
    package_name, attribute, cls, _ = _KINDS[kind]
    registry = _Registry(kind)
    package = importlib.import_module(package_name)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        registry.add(_plugin_of(module, kind), f"built-in module {module.__name__}")
    for entry in entry_points(group=package_name):
        origin = f"entry point {entry.name!r} ({entry.value})"
        try:
            loaded = entry.load()
            item = _plugin_of(loaded, kind) if isinstance(loaded, ModuleType) else loaded
            if not isinstance(item, cls):
                raise PluginError(f"it is a {type(item).__name__}, not a {cls.__name__}")
        except Exception as exc:  # a third-party plugin must not break the harness
            registry.broken[entry.name] = f"{origin}: {exc}"
            warnings.warn(
                f"Skipping broken {kind} plugin {origin}: {exc}", RuntimeWarning, stacklevel=2
            )
            continue
        registry.add(item, origin)
    return registry


@cache
def _registry(kind: str) -> _Registry:
    return _discover(kind)


def tasks() -> dict[str, Task]:
    """All registered tasks by name, sorted."""
    return dict(sorted(_registry("task").items.items()))


def models() -> dict[str, Model]:
    """All registered models by name, sorted."""
    return dict(sorted(_registry("model").items.items()))


def get_task(name: str) -> Task:
    """The task called `name`; unknown names raise with the closest match."""
    return _registry("task").get(name)


def get_model(name: str) -> Model:
    """The model called `name`; unknown names raise with the closest match."""
    return _registry("model").get(name)


def refresh() -> None:
    """Forget discovered plugins (after installing a distribution in the same process)."""
    _registry.cache_clear()
