"""How many hours a month a pool is up, from its scale-up and scale-down crons.

The AWS target's off-hours schedule (and any target's like it) is two 5-field Unix crons:
at ``scale_down`` the pool goes to zero, at ``scale_up`` back to its bounds. The fraction of
time it is up is measured exactly over one reference year (2025, 365 days): every firing of
either cron is an event, and the time between an up event and the next down event is up
time. Time zones shift both crons alike, so the fraction holds in any zone (a daylight-saving
change moves one week's hour; ignored).
"""

from __future__ import annotations

import datetime
import functools
import itertools
from decimal import Decimal

_NAMES = {
    4: {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))},
    3: {
        m: i + 1
        for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
    },
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
YEAR = 2025


def field_values(text: str, index: int) -> frozenset[int]:
    """The values one cron field matches (``*``, ``a``, ``a-b``, ``*/s``, ``a-b/s``, lists, names)."""
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.upper().split(","):
        span, _, step = part.partition("/")
        if span == "*":
            start, end = low, high
        else:
            first, _, last = span.partition("-")
            start = _number(first, index)
            end = _number(last, index) if last else (high if step else start)
        values.update(range(start, end + 1, int(step) if step else 1))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}  # 7 is Sunday too
    return frozenset(values)


def _number(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    return names[text] if text in names else int(text)


def _fires(cron: str) -> list[datetime.datetime]:
    minutes, hours, days, months, weekdays = (field_values(f, i) for i, f in enumerate(cron.split()))
    restricted_day, restricted_weekday = cron.split()[2] != "*", cron.split()[4] != "*"
    times = []
    day = datetime.date(YEAR, 1, 1)
    while day.year == YEAR:
        weekday = (day.weekday() + 1) % 7  # cron: 0 = Sunday
        by_day, by_weekday = day.day in days, weekday in weekdays
        # Unix cron ORs the two day fields when both are given.
        matches = (by_day or by_weekday) if restricted_day and restricted_weekday else (by_day and by_weekday)
        if matches and day.month in months:
            for hour, minute in itertools.product(sorted(hours), sorted(minutes)):
                times.append(datetime.datetime(day.year, day.month, day.day, hour, minute))
        day += datetime.timedelta(days=1)
    return times


@functools.cache
def up_fraction(scale_up: str, scale_down: str) -> Decimal:
    """Fraction of the reference year between a ``scale_up`` firing and the next ``scale_down`` one."""
    events = sorted([(t, True) for t in _fires(scale_up)] + [(t, False) for t in _fires(scale_down)])
    if not events:
        return Decimal(1)
    start = datetime.datetime(YEAR, 1, 1)
    end = datetime.datetime(YEAR + 1, 1, 1)
    state = events[-1][1]  # the year wraps: the state before the first event is the one after the last
    up = datetime.timedelta()
    previous = start
    for moment, is_up in events:
        if state:
            up += moment - previous
        previous, state = moment, is_up
    if state:
        up += end - previous
    return (Decimal(up.total_seconds()) / Decimal((end - start).total_seconds())).quantize(Decimal("0.000001"))
