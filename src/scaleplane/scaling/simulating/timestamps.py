"""A request log's time stamps as seconds since the epoch, from the forms logs and exports write.

Understood: a number of seconds; ISO 8601 / RFC 3339 (`2024-05-10T12:00:00Z`, any fraction, naive
date-times read as UTC); RFC 2822 / HTTP dates (`Fri, 10 May 2024 12:00:00 GMT`); the Common Log Format
of web servers (`10/May/2024:12:00:00 +0000`). Refused by name, because each reads as a valid but wrong
instant: epoch milliseconds (a number past the year 5000 as seconds) and numeric dates with slashes
(day/month order unknown). `seconds` raises ValueError with the problem; `traces` adds the file, line
and column.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re

MILLISECONDS_FROM = 1e11  # as seconds, the year 5138: no trace is from then, a millisecond stamp is
SLASHED_DATE = re.compile(r"^\d{1,4}/\d{1,2}/\d{1,4}")


def seconds(text: str) -> float:
    """Seconds since the epoch, or ValueError naming the value and the forms understood."""
    stripped = text.strip()
    try:
        value = float(stripped)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise ValueError(f"must be finite, was {stripped!r}")
        if abs(value) >= MILLISECONDS_FROM:
            raise ValueError(
                f"{stripped!r} looks like milliseconds since the epoch; write seconds (divide by 1000)"
            )
        return value
    parsed = _date_time(stripped)
    if parsed is None:
        hint = (
            " (a numeric date with slashes leaves the day/month order unknown: write 2024-05-10T12:00:00Z)"
            if SLASHED_DATE.match(stripped)
            else ""
        )
        raise ValueError(
            "must be seconds, an ISO 8601 / RFC 3339, RFC 2822 or Common Log Format date-time, "
            f"was {stripped!r}{hint}"
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _date_time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
