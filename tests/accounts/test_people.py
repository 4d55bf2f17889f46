import pytest

from accounts.actors import Actor
from accounts.models import Person
from accounts.services import person_get_or_create
from core.errors import Conflict

pytestmark = pytest.mark.django_db


def test_a_person_is_found_by_id_number_and_shown_masked():
    p = person_get_or_create(actor=Actor(), name="张伟", id_type="ric", id_number="220102199501012238")
    assert Person.objects.get(id_number="220102199501012238") == p
    assert p.masked_id_number == "220102********2238"
    assert str(p.birth_date) == "1995-01-01"
    assert "2238" in str(p) and "19950101" not in str(p)


def test_the_same_id_under_another_name_is_refused_and_nothing_changes():
    person_get_or_create(actor=Actor(), name="张伟", id_type="ric", id_number="220102199501012238")
    with pytest.raises(Conflict):
        person_get_or_create(actor=Actor(), name="张为", id_type="ric", id_number="220102199501012238")
    assert Person.objects.get().name == "张伟"


def test_registering_the_same_person_twice_returns_the_first():
    a = person_get_or_create(actor=Actor(), name="张伟", id_type="ric", id_number="220102199501012238")
    b = person_get_or_create(actor=Actor(), name="张伟", id_type="ric", id_number="220102199501012238 ")
    assert a == b and Person.objects.count() == 1
