"""Minbar: self-hosted social media marketing and optimization platform."""

from __future__ import annotations

__version__ = "0.1.0"
