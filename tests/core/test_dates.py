import datetime

import pytest

from core.dates import add_months, months_before

D = datetime.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 1, 15), -1, D(2025, 12, 15)),
        (D(2026, 5, 31), 0, D(2026, 5, 31)),
        (D(2026, 5, 31), 36, D(2029, 5, 31)),
    ],
)
def test_months_end_on_the_corresponding_day_or_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def test_months_before_is_adding_a_negative_count():
    assert months_before(D(2026, 5, 31), 3) == D(2026, 2, 28)
    assert months_before(D(2024, 5, 31), 3) == D(2024, 2, 29)
