"""Business-hours clock: calendars and vectorised business time (METHODS.md §5)."""

from leadsla.clock.calendar import (
    DAYS,
    BusinessCalendar,
    CalendarConfigError,
    business_day_seconds,
    business_seconds_between,
    calendar_config,
    hours_spec,
)

__all__ = [
    "DAYS",
    "BusinessCalendar",
    "CalendarConfigError",
    "business_day_seconds",
    "business_seconds_between",
    "calendar_config",
    "hours_spec",
]
