"""core.pages.form_input: a page's form read through the API's input schema for the same action."""

import datetime

import pytest
from django.test import RequestFactory
from ninja import Schema

from core.errors import ValidationFailed
from core.pages import form_input


class ExampleIn(Schema):
    reason: str
    assignee_id: int | None = None
    publish: bool = False
    on: datetime.date | None = None


def _post(data: dict):
    return RequestFactory().post("/", data)


def test_it_reads_the_fields_the_schema_names_and_ignores_the_rest():
    data = form_input(_post({"reason": "查实", "assignee_id": "7", "publish": "on", "extra": "x"}), ExampleIn)
    assert data == ExampleIn(reason="查实", assignee_id=7, publish=True)


def test_an_empty_non_text_field_counts_as_not_filled_in():
    data = form_input(_post({"reason": "", "assignee_id": "", "on": ""}), ExampleIn)
    assert data.reason == "" and data.assignee_id is None and data.on is None


def test_a_missing_required_field_is_refused_with_its_name():
    with pytest.raises(ValidationFailed) as exc:
        form_input(_post({"assignee_id": "7"}), ExampleIn)
    assert exc.value.details == {"field": "reason"} and exc.value.message == "请填写完整"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("assignee_id", "七", "应填写整数"), ("on", "2026-13-01", "日期格式应为 YYYY-MM-DD")],
)
def test_a_value_of_the_wrong_type_is_refused_with_a_chinese_reason(field, value, message):
    with pytest.raises(ValidationFailed) as exc:
        form_input(_post({"reason": "x", field: value}), ExampleIn)
    assert exc.value.details == {"field": field} and exc.value.message == message
