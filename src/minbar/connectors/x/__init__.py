"""X (API v2)."""
