import pytest

from occupations.levels import level_from_text, level_spellings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("3", "3"),
        ("三级", "3"),
        ("高级工", "3"),
        ("高级", "3"),
        ("三级/高级工", "3"),
        ("国家职业资格三级（高级）", "3"),
        (" 四级 ", "4"),
        ("技师", "2"),
        ("高级技师", "1"),
    ],
)
def test_every_spelling_people_write_is_read(text, code):
    assert level_from_text(text, level_spellings()).code == code


def test_an_unknown_level_is_none():
    assert level_from_text("特级大师", level_spellings()) is None
    assert level_from_text(None, level_spellings()) is None
