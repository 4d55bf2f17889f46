"""Working-day deadlines on China's official calendar: published holidays and 调休, years not yet published,
and years an operator entered from the State Council's notice."""

import datetime

import chinese_calendar
import pytest

from core.models import AuditEntry
from occupations.models import CalendarDay
from occupations.workdays import (
    Deadline,
    WorkCalendar,
    add_working_days,
    is_workday,
    working_days_between,
    year_status,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

D = datetime.date


def days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def enter_2027_notice() -> None:
    """Test data shaped like an operator's entry, not the real 2027 notice."""
    source = "测试数据(模拟国务院办公厅关于2027年部分节假日安排的通知)"
    CalendarDay.objects.create(date=D(2027, 1, 1), name="元旦", is_workday=False, source=source)
    CalendarDay.objects.create(date=D(2027, 1, 2), name="元旦调休上班", is_workday=True, source=source)


# --- published years, from the library --------------------------------------------------------------------


def test_national_day_2025_is_eight_days_off_with_two_weekend_days_worked():
    assert [d for d in days(D(2025, 9, 27), D(2025, 10, 12)) if is_workday(d)] == [
        D(2025, 9, 28),  # Sunday, 调休上班
        D(2025, 9, 29),
        D(2025, 9, 30),
        D(2025, 10, 9),
        D(2025, 10, 10),
        D(2025, 10, 11),  # Saturday, 调休上班
    ]


def test_five_working_days_across_national_day_2025():
    deadline = add_working_days(D(2025, 9, 26), 5)

    assert deadline == Deadline(
        D(2025, 10, 10), False, "自2025年9月26日次日起算,当日不计入;按2025年国务院公布的节假日安排计算"
    )


def test_an_adjusted_working_saturday_counts_as_a_working_day():
    assert add_working_days(D(2025, 10, 9), 2).date == D(2025, 10, 11)
    assert working_days_between(D(2025, 10, 10), D(2025, 10, 11)) == 1


def test_spring_festival_2026_as_published():
    # The library's 2026 data: 2月15日—23日 off, Saturdays 2月14日 and 2月28日 worked.
    off = [d for d in days(D(2026, 2, 14), D(2026, 2, 28)) if not is_workday(d)]
    assert off == days(D(2026, 2, 15), D(2026, 2, 23))
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))
    assert chinese_calendar.get_holiday_detail(D(2026, 2, 15))[1] == chinese_calendar.Holiday.spring_festival.value

    assert add_working_days(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 13), 2).date == D(2026, 2, 24)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6


def test_counting_starts_the_day_after_and_can_count_back():
    assert add_working_days(D(2025, 10, 9), 1).date == D(2025, 10, 10)
    assert add_working_days(D(2025, 10, 9), -1).date == D(2025, 9, 30)
    assert add_working_days(D(2025, 10, 9), 0) == Deadline(D(2025, 10, 9), False, "未计工作日")


@pytest.mark.parametrize("n", [1, 5, 10, 30])
def test_working_days_between_undoes_add_working_days(n):
    start = D(2025, 9, 20)

    end = add_working_days(start, n).date

    assert working_days_between(start, end) == n
    assert working_days_between(end, start) == -n


def test_a_published_year_is_from_the_library():
    assert year_status(2025) == "library"
    assert year_status(2026) == "library"


# --- a year not yet published -----------------------------------------------------------------------------


def test_a_december_deadline_reaching_into_2027_is_provisional():
    deadline = add_working_days(D(2026, 12, 28), 5)

    # 12月29—31日, then 2027年1月1日 (元旦, statutory) and the weekend, then 1月4日 and 5日.
    assert deadline == Deadline(
        D(2027, 1, 5),
        True,
        "自2026年12月28日次日起算,当日不计入;"
        "按2027年暂定日历计算(国务院尚未公布;已计入可推算的法定节假日,调休上班日未知)",
    )
    assert year_status(2027) == "provisional"


def test_a_deadline_inside_a_published_year_is_not_provisional():
    assert not add_working_days(D(2026, 12, 1), 5).provisional


def test_an_unpublished_year_falls_back_to_weekends_and_fixed_statutory_holidays():
    assert not is_workday(D(2035, 1, 1))
    assert not is_workday(D(2035, 5, 1)) and not is_workday(D(2035, 5, 2))
    assert [is_workday(d) for d in days(D(2035, 10, 1), D(2035, 10, 6))] == [False, False, False, True, True, False]
    assert is_workday(D(2035, 10, 8))
    assert year_status(2035) == "provisional"


def test_an_unpublished_year_knows_its_lunar_holidays_and_their_rest_days():
    """2027 is not published: 春节 (除夕 to 初三, 5—8 February, with 6 and 7 on a weekend, so 9 and 10 are rest
    days), 清明 (5 April), 端午 (9 June) and 中秋 (15 September) are computed all the same; only 调休 is unknown."""
    assert year_status(2027) == "provisional"
    assert [is_workday(d) for d in days(D(2027, 2, 4), D(2027, 2, 11))] == [
        True, False, False, False, False, False, False, True
    ]  # fmt: skip
    assert not is_workday(D(2027, 4, 5)) and not is_workday(D(2027, 6, 9)) and not is_workday(D(2027, 9, 15))
    assert is_workday(D(2027, 4, 6)) and is_workday(D(2027, 6, 10))


def test_a_deadline_across_an_unpublished_spring_festival_counts_over_it():
    deadline = add_working_days(D(2027, 2, 3), 3)
    # 2月4日 (Thu) counts; 5—10日 are the festival, its weekend and rest days; then 11日 and 12日.
    assert deadline.date == D(2027, 2, 12)
    assert deadline.provisional and "调休上班日未知" in deadline.explanation
    assert deadline.explanation.startswith("自2027年2月3日次日起算,当日不计入")


def test_counting_back_says_so():
    assert add_working_days(D(2026, 6, 10), -2).explanation.startswith("自2026年6月10日前一日起倒数,当日不计入")


def test_a_year_before_the_library_does_not_raise_either():
    assert year_status(2003) == "provisional"
    assert not is_workday(D(2003, 10, 1))
    assert add_working_days(D(2003, 12, 30), 1).provisional


# --- years an operator entered ----------------------------------------------------------------------------


def test_operator_entered_2027_days_take_over_and_clear_provisional():
    enter_2027_notice()

    deadline = add_working_days(D(2026, 12, 28), 5)

    # 12月29—31日, 2027年1月2日 (entered as 调休上班), 1月4日.
    assert deadline == Deadline(
        D(2027, 1, 4), False, "自2026年12月28日次日起算,当日不计入;按2026、2027年国务院公布的节假日安排计算"
    )
    assert year_status(2027) == "operator"
    assert is_workday(D(2027, 1, 2)) and not is_workday(D(2027, 1, 1))


def test_deleting_the_operator_rows_makes_the_year_provisional_again():
    enter_2027_notice()
    assert year_status(2027) == "operator"

    CalendarDay.objects.filter(year=2027).delete()

    assert year_status(2027) == "provisional"
    assert add_working_days(D(2026, 12, 28), 5).date == D(2027, 1, 5)


def test_an_operator_correction_to_a_published_year_changes_only_that_day():
    CalendarDay.objects.create(date=D(2026, 12, 31), name="测试:临时放假", is_workday=False, source="测试数据")

    assert not is_workday(D(2026, 12, 31))
    assert not is_workday(D(2026, 10, 1))
    assert is_workday(D(2026, 10, 10))
    assert year_status(2026) == "operator"


def test_one_calendar_reads_each_year_once(django_assert_num_queries):
    calendar = WorkCalendar()

    with django_assert_num_queries(2):
        calendar.add_working_days(D(2026, 12, 1), 30)
        calendar.working_days_between(D(2026, 1, 1), D(2027, 12, 31))


def test_the_year_follows_the_date():
    day = CalendarDay.objects.create(date=D(2027, 10, 1), name="国庆节")
    day.date = D(2028, 10, 1)
    day.save(update_fields=["date"])

    day.refresh_from_db()
    assert day.year == 2028


def test_a_datetime_is_refused_rather_than_silently_misread():
    with pytest.raises(TypeError):
        is_workday(datetime.datetime(2025, 10, 1, 12, 0))


def test_an_operator_enters_a_day_in_the_admin_and_it_is_audited(operator):
    response = client_for(operator).post(
        "/admin/occupations/calendarday/add/",
        {"date": "2027-02-08", "name": "春节", "is_workday": "", "source": "测试数据"},
    )

    assert response.status_code == 302
    day = CalendarDay.objects.get(date=D(2027, 2, 8))
    assert (day.year, day.is_workday, day.name) == (2027, False, "春节")
    entry = AuditEntry.objects.filter(object_type="occupations.calendarday", object_id=str(day.pk)).get()
    assert entry.action == "admin.add"
    assert not is_workday(D(2027, 2, 8))  # a Monday
