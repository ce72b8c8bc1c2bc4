"""Times as staff in Vietnam read them: stored times are UTC, every page, list and file shows Vietnam's."""

from datetime import UTC, datetime, timedelta, timezone, tzinfo

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    VIETNAM: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
except (ImportError, ZoneInfoNotFoundError):  # no time zone data (Windows without tzdata)
    VIETNAM = timezone(timedelta(hours=7))  # Vietnam has no daylight saving time: the same thing


def in_vietnam(stamp: str) -> datetime:
    """A stored ISO time (UTC when it names no zone) as Vietnam's wall-clock time, without a zone
    (Excel has none). ValueError when it is not a time."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).replace(tzinfo=None)


def local_time(stamp: str | None) -> str:
    """A stored UTC time as staff in Vietnam read it: 2026-11-25 16:05 (UTC) is 2026-11-25 23:05."""
    return in_vietnam(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""
