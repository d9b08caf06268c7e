"""Secrets out of the access log: worker links carry their session token in the query string.

uvicorn logs every request line at ``info`` (the default level), ``/w/t-1?token=...`` included;
anyone who reads the log could work as that worker. ``RedactTokens`` rewrites the logged path.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_QUERY = re.compile(r"((?:^|[?&;])token=)[^&;#\s]*", re.IGNORECASE)
REDACTED = "***"


def redact(target: str) -> str:
    return _SECRET_QUERY.sub(lambda match: match.group(1) + REDACTED, target)


class RedactTokens(logging.Filter):
    """Replaces ``token=`` values in the arguments of an access-log record (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Redact the access log (call after uvicorn has configured its loggers)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactTokens) for existing in access.filters):
        access.addFilter(RedactTokens())
