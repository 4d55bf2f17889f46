"""core.spreadsheets' import runner: every row checked first, then all rows saved or none."""

import pytest

from core.errors import ValidationFailed
from core.models import Notification
from core.spreadsheets import ImportReport, RowError, RowProblem, cell_text, check_rows, save_all_or_nothing
from tests.factories import UserFactory


def _check(record: dict) -> str:
    name = cell_text(record.get("name"))
    if not name:
        raise RowProblem("请填写姓名", "姓名")
    if name == "坏":
        raise ValidationFailed("平台拒绝", details={"column": "姓名"})
    return name


def test_cell_text_reads_excel_numbers_as_written():
    assert cell_text(None) == "" and cell_text(12.0) == "12" and cell_text(" a ") == "a" and cell_text(1.5) == "1.5"


def test_every_bad_row_is_reported_with_its_number_and_column_in_order():
    report = ImportReport()
    rows = [(5, {"name": "坏"}), (2, {"name": "甲"}), (3, {"name": ""}), (4, {"name": "甲"})]
    good = check_rows(rows, _check, report, key=lambda name: name, duplicate="与第%(r)d行是同一人")
    assert good == [(2, "甲")]
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (3, "姓名", "请填写姓名"),
        (4, "", "与第2行是同一人"),
        (5, "姓名", "平台拒绝"),
    ]


@pytest.mark.django_db
def test_a_row_that_fails_to_save_undoes_every_row():
    user, report = UserFactory(), ImportReport(total=2)

    def save() -> int:
        Notification.objects.create(user=user, title="第2行")
        report.errors.append(RowError(3, "证书编号已被占用", "证书编号"))  # another upload took it meanwhile
        return 2

    save_all_or_nothing(report, save)
    assert report.created == 0 and [e.row for e in report.errors] == [3]
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_rows_that_all_save_are_counted():
    user, report = UserFactory(), ImportReport(total=1)
    save_all_or_nothing(report, lambda: Notification.objects.create(user=user, title="t") and 1)
    assert report.created == 1 and Notification.objects.count() == 1
