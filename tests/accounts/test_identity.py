import pytest

from accounts.identity import (
    mask_account,
    mask_id_number,
    mask_phone,
    normalise_credit_code,
    normalise_id_number,
    normalise_phone,
)
from core.errors import ValidationFailed

# 11010519491231002X is the worked example of GB 11643-1999; 220102199501012238 is a 吉林 number.
VALID_RICS = ["11010519491231002X", "11010519491231002x", "220102199501012238", " 220102 199501012238 "]


@pytest.mark.parametrize("value", VALID_RICS)
def test_it_accepts_valid_id_numbers(value):
    assert normalise_id_number("ric", value) == value.strip().replace(" ", "").upper()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "校验位"),  # last digit altered
        ("220102199502302237", "出生日期"),  # 30 February, with a correct check digit
        ("22010219950101223", "18位"),  # one digit short
        ("", "请填写"),
    ],
)
def test_it_rejects_invalid_id_numbers_with_the_reason(value, reason):
    with pytest.raises(ValidationFailed) as exc:
        normalise_id_number("ric", value)
    assert reason in exc.value.message
    assert exc.value.details["field"] in ("id_number",)


def test_other_id_types_have_their_own_checks():
    assert normalise_id_number("hkmo_permit", "h12345678") == "H12345678"
    assert normalise_id_number("passport", "E12345678") == "E12345678"
    with pytest.raises(ValidationFailed):
        normalise_id_number("tw_permit", "1234")
    with pytest.raises(ValidationFailed):
        normalise_id_number("residence_permit", "220102199501012238")  # not an 81/82/83 number


@pytest.mark.parametrize("code", ["91110000600037341L", "91220101MA0Y2K8X4X", "51220000MJ0K3P7Q5F"])
def test_it_accepts_valid_credit_codes(code):
    assert normalise_credit_code(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [("91110000600037341M", "校验位"), ("9111000060003734", "18位"), ("9111000I600037341L", "格式")],
)
def test_it_rejects_invalid_credit_codes(code, reason):
    with pytest.raises(ValidationFailed) as exc:
        normalise_credit_code(code)
    assert reason in exc.value.message


def test_masking_hides_the_middle():
    assert mask_id_number("220102199501012238") == "220102********2238"
    assert mask_phone("13804310001") == "138****0001"
    assert mask_account("6222020200012345678") == "***************5678"


def test_phone_validation():
    assert normalise_phone("+86 138-0431-0001") == "13804310001"
    with pytest.raises(ValidationFailed):
        normalise_phone("0431-8888888")


def test_a_spreadsheet_in_chinese_reads_the_same_from_an_english_page():
    """The language switch of the page the upload came from does not change what 居民身份证 in a file means."""
    from django.utils import translation

    from accounts.identity import id_type_from_label

    with translation.override("en"):
        assert id_type_from_label("居民身份证") == "ric"
        assert id_type_from_label("护照") == "passport"
        assert id_type_from_label("ric") == "ric"
