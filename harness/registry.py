"""Discovers task and model plugins: built-ins by walking packages, others by entry points.

Built-ins live in `tasks/` and `models/` (installed as `harness.tasks` and `harness.models`); each
module defines `TASK` or `MODEL`. Other distributions add plugins through the entry-point groups
`harness.tasks` and `harness.models`, each entry pointing at a module or straight at the object.
A broken built-in is our bug and raises; a broken third-party plugin warns, and raises only when it
is asked for by name. Unknown names suggest the closest registered one.

Names clash by the same rule, a third-party plugin never breaks the harness: two built-ins with one
name are our bug and raise; a third-party plugin named like a built-in is left out with a warning
(the built-in is used); third-party plugins sharing a name are all left out with a warning, and
asking for that name raises, naming them.
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
    """Plugins of one kind, with the errors and name clashes of third-party plugins kept."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.broken: dict[str, str] = {}
        self.clashes: dict[str, list[str]] = {}  # name -> origins of the third-party plugins

    def add(self, item: Any, origin: str) -> None:
        """Register a built-in; two built-ins with one name are our bug."""
        if item.name in self.items:
            raise PluginError(
                f"Duplicate {self.kind} name {item.name!r}: defined by "
                f"{self.origins[item.name]} and by {origin}. Rename one of them."
            )
        self.items[item.name] = item
        self.origins[item.name] = origin

    def add_third_party(self, found: list[tuple[Any, str]]) -> None:
        """Register third-party plugins (after the built-ins); clashing names are left out."""
        by_name: dict[str, list[tuple[Any, str]]] = {}
        for item, origin in found:
            by_name.setdefault(item.name, []).append((item, origin))
        group = _KINDS[self.kind][0]
        rename = (
            f"give its {_KINDS[self.kind][2].__name__}(...) another name and its "
            f"entry point (group {group!r}) the same new name, then reinstall its distribution"
        )
        for name, plugins in by_name.items():
            if name in self.items:
                for _, origin in plugins:
                    warnings.warn(
                        f"Leaving out the {self.kind} plugin {origin}: its name {name!r} is "
                        f"taken by the built-in {self.kind} ({self.origins[name]}), so {name!r} "
                        f"means the built-in. To use the plugin, rename it: {rename}.",
                        RuntimeWarning,
                        stacklevel=3,
                    )
            elif len(plugins) > 1:
                origins = sorted(origin for _, origin in plugins)
                self.clashes[name] = origins
                warnings.warn(
                    f"Leaving out the {self.kind} plugins {_and(origins)}: they share the name "
                    f"{name!r}, so none of them is used. To use one, uninstall the others or "
                    f"rename it: {rename}.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            else:
                item, origin = plugins[0]
                self.items[name] = item
                self.origins[name] = origin

    def get(self, name: str) -> Any:
        if name in self.items:
            return self.items[name]
        if name in self.clashes:
            raise PluginError(
                f"The {self.kind} name {name!r} is claimed by {len(self.clashes[name])} "
                f"third-party plugins, {_and(self.clashes[name])}, so none of them is used. "
                "Uninstall all but one of their distributions, or rename the plugins (the name in "
                "each and its entry point)."
            )
        if name in self.broken:
            raise PluginError(f"The {self.kind} plugin {name!r} is broken: {self.broken[name]}")
        raise UnknownNameError(self.kind, name, self.items, hint=_KINDS[self.kind][3])


def _and(words: list[str]) -> str:
    """'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _origin(entry: Any) -> str:
    """How a warning names an entry point: its name, target and distribution."""
    try:  # a distribution with broken metadata must not break the harness either
        dist = entry.dist
        where = f" from {dist.name} {dist.version}" if dist is not None else ""
    except Exception:
        where = ""
    return f"entry point {entry.name!r} ({entry.value}){where}"


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
    found: list[tuple[Any, str]] = []
    for entry in entry_points(group=package_name):
        origin = _origin(entry)
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
        found.append((item, origin))
    registry.add_third_party(found)
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


def unsupported(modality: str, problem_type: str) -> dict[str, str]:
    """Registered models that cannot handle such a task, by name, with the reason."""
    reasons = {name: m.unsupported_reason(modality, problem_type) for name, m in models().items()}
    return {name: reason for name, reason in reasons.items() if reason}


def refresh() -> None:
    """Forget discovered plugins (after installing a distribution in the same process)."""
    _registry.cache_clear()
