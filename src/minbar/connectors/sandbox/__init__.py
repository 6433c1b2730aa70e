"""The built-in sandbox network (see docs/sandbox.md)."""

from __future__ import annotations

from minbar.connectors.sandbox.connector import SandboxConnector, capabilities_for

CONNECTOR = SandboxConnector

__all__ = ["CONNECTOR", "SandboxConnector", "capabilities_for"]
