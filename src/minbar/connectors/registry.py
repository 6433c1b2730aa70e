"""Find every connector package under ``minbar.connectors``.

A network package exposes ``CONNECTOR`` (its :class:`Connector` subclass) in
its ``__init__``; adding a network means adding a package, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import minbar.connectors as connectors_package
from minbar.connectors.base import Connector

_NOT_NETWORKS = {"base", "errors", "registry", "types", "http", "text", "testing"}


@cache
def all_connectors() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for info in pkgutil.iter_modules(connectors_package.__path__):
        if not info.ispkg or info.name in _NOT_NETWORKS:
            continue
        module = importlib.import_module(f"minbar.connectors.{info.name}")
        connector = getattr(module, "CONNECTOR", None)
        if connector is None:
            continue
        if not (isinstance(connector, type) and issubclass(connector, Connector)):
            raise TypeError(f"minbar.connectors.{info.name}.CONNECTOR is not a Connector")
        if connector.network in found:
            raise ValueError(f"two connectors claim the network {connector.network!r}")
        found[connector.network] = connector
    return dict(sorted(found.items()))


def get_connector(network: str) -> type[Connector]:
    try:
        return all_connectors()[network]
    except KeyError:
        raise LookupError(f"no connector for network {network!r}") from None
