"""accounts.binding: the one writer of User.person. Whatever channel vouched, one live binding per account and per
person, the proof kept, and every binding or refusal in the audit log."""

import pytest

from accounts.actors import Actor
from accounts.binding import identity_bind, identity_unbind
from accounts.models import IdentityBinding
from core.errors import Conflict, PermissionDenied
from core.models import AuditEntry
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_binds_an_account_and_keeps_the_proof():
    user, person = UserFactory(), PersonFactory()
    binding = identity_bind(
        actor=Actor.platform(), user=user, person=person, channel="oidc", evidence={"issuer": "i", "sub": "s"}
    )
    user.refresh_from_db()
    assert user.person == person
    assert binding.evidence == {"issuer": "i", "sub": "s"}
    assert AuditEntry.objects.filter(action="identity.bind", object_id=str(binding.pk)).exists()


def test_binding_again_to_the_same_person_changes_nothing():
    user, person = UserFactory(), PersonFactory()
    first = identity_bind(actor=Actor.platform(), user=user, person=person, channel="code")
    again = identity_bind(actor=Actor.platform(), user=user, person=person, channel="oidc")
    assert first == again
    assert IdentityBinding.objects.count() == 1


def test_a_person_bound_to_one_account_cannot_be_bound_to_another():
    person = PersonFactory()
    owner, other = UserFactory(), UserFactory()
    identity_bind(actor=Actor.platform(), user=owner, person=person, channel="oidc")
    with pytest.raises(Conflict) as exc:
        identity_bind(actor=Actor.platform(), user=other, person=person, channel="code")
    assert exc.value.code == "person_already_bound"
    other.refresh_from_db()
    assert other.person is None
    assert AuditEntry.objects.filter(action="identity.bind_refused", object_id=str(person.pk)).exists()


def test_an_account_bound_to_one_person_cannot_take_another():
    user = UserFactory()
    identity_bind(actor=Actor.platform(), user=user, person=PersonFactory(), channel="oidc")
    stranger = PersonFactory()
    with pytest.raises(Conflict) as exc:
        identity_bind(actor=Actor.platform(), user=user, person=stranger, channel="code")
    assert exc.value.code == "account_already_bound"
    assert not IdentityBinding.objects.filter(person=stranger).exists()


def test_unbinding_needs_a_bureau_and_keeps_the_record(cc_officer):
    user, person = UserFactory(), PersonFactory()
    identity_bind(actor=Actor.platform(), user=user, person=person, channel="code")
    with pytest.raises(PermissionDenied):
        identity_unbind(actor=Actor.for_user(UserFactory()), user_id=user.pk, reason="冒用")
    binding = identity_unbind(actor=Actor.for_user(cc_officer), user_id=user.pk, reason="经核查系冒用")
    user.refresh_from_db()
    assert user.person is None
    assert binding.ended_at is not None and binding.end_reason == "经核查系冒用"
    # The person can now be bound to the right account.
    identity_bind(actor=Actor.platform(), user=UserFactory(), person=person, channel="bureau")
