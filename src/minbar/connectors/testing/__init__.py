"""Helpers for the connectors' local fakes (tests only; the registry skips this package)."""
