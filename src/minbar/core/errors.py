"""Errors raised by actions; views show the message, the API maps the code to a status."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise


class ActionError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str | Promise, fields: Mapping[str, str | Promise] | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.fields = {name: str(text) for name, text in (fields or {}).items()}


class InvalidInput(ActionError):
    code = "invalid"
    status = 422


class NotAllowed(ActionError):
    code = "forbidden"
    status = 403


class NotFound(ActionError):
    code = "not_found"
    status = 404


class Conflict(ActionError):
    code = "conflict"
    status = 409


class RateLimited(ActionError):
    code = "rate_limited"
    status = 429
