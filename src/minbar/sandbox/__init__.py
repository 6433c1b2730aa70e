"""The built-in sandbox network: a simulated social network with a synthetic audience.

Minbar serves it over HTTP (``/sandbox/api/v1/``) and reaches it through the
same connector contract as real networks, so everything works without
credentials and tests can inject faults. See docs/sandbox.md.
"""
