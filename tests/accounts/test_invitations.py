"""Invitations (issue 13, item 4): an organisation invites the people it registered, a bureau its officers and
external supervisors; the link expires and can be revoked; only an account bound by proof to the invited person
accepts, and only then is the role granted (a staff role then asks for a second factor)."""

import datetime
import itertools

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.actors import Actor
from accounts.invitations import invitation_accept, invitation_create, invitation_revoke, token_digest
from accounts.models import Invitation, Membership, Role
from accreditation.people import appointment_register
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import OrganisationFactory, PersonFactory, UserFactory, bind, make_ric, member

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def A(user) -> Actor:
    return Actor.for_user(user)


def someone(**kwargs):
    n = next(_serial)
    birth = datetime.date(1984, 1, 1) + datetime.timedelta(days=n)
    return PersonFactory(id_number=make_ric(region="220104", birth=birth, seq=n), **kwargs)


@pytest.fixture
def assessor(org, org_admin):
    """An assessor the organisation registered, with no account yet."""
    return appointment_register(
        actor=A(org_admin),
        role="assessor",
        name="赵考评",
        id_type="ric",
        id_number=make_ric(region="220104", birth=datetime.date(1986, 9, 9), seq=99),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=org.id,
    ).person


def invite(admin, org, person, role="assessor", **kw):
    return invitation_create(
        actor=A(admin),
        role=role,
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        organisation_id=org.id,
        **kw,
    )


def test_the_invited_person_bound_by_proof_accepts_and_gets_the_role(
    org, org_admin, assessor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, raw = invite(org_admin, org, assessor, email="Zhao@Example.com")
    assert invitation.token_hash == token_digest(raw) and raw not in str(Invitation.objects.values().get())
    assert len(mail.outbox) == 1 and f"/accounts/invite/{raw}/" in mail.outbox[0].body
    assert mail.outbox[0].to == ["zhao@example.com"]
    user = UserFactory()
    with pytest.raises(PermissionDenied) as exc:  # an account not bound by proof: told how to bind
        invitation_accept(actor=A(user), token=raw)
    assert exc.value.code == "identity_unbound" and not Membership.objects.filter(user=user).exists()
    bind(user, assessor)
    actor = A(user)
    membership = invitation_accept(actor=actor, token=raw)
    assert (membership.role, membership.organisation) == (Role.ASSESSOR, org)
    assert Role.ASSESSOR in actor.roles
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert AuditEntry.objects.filter(action="invitation.accept", object_id=str(invitation.pk)).exists()
    with pytest.raises(Conflict):
        invitation_accept(actor=A(user), token=raw)  # once


def test_someone_else_holding_the_link_gets_nothing(org, org_admin, assessor):
    _invitation, raw = invite(org_admin, org, assessor)
    stranger = UserFactory(person=someone())
    with pytest.raises(PermissionDenied) as exc:
        invitation_accept(actor=A(stranger), token=raw)
    assert exc.value.code == "invitation_other_person"
    assert not Membership.objects.filter(user=stranger).exists()
    assert AuditEntry.objects.filter(action="invitation.accept_refused").count() == 1


def test_only_registered_people_are_invited(org, org_admin, other_org, other_org_admin, assessor):
    with pytest.raises(NotFound):  # nobody registered under this ID number
        invite(org_admin, org, someone())
    with pytest.raises(NotFound):  # registered as an assessor, not as a trainer
        invite(org_admin, org, assessor, role="trainer")
    with pytest.raises(NotFound):  # another organisation's admin: as if it did not exist
        invite(other_org_admin, org, assessor)
    with pytest.raises(ValidationFailed):  # an organisation cannot hand out bureau roles or its own admin role
        invite(org_admin, org, assessor, role="bureau_staff")
    with pytest.raises(PermissionDenied):
        invite(member(Role.ASSESSOR, organisation=org), org, assessor)
    assert not Invitation.objects.exists()


def test_an_expired_or_revoked_link_grants_nothing(org, org_admin, assessor):
    invitation, raw = invite(org_admin, org, assessor)
    user = UserFactory(person=assessor)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(Conflict, match="过期"):
        invitation_accept(actor=A(user), token=raw)
    second, raw2 = invite(org_admin, org, assessor)
    invitation_revoke(actor=A(org_admin), invitation_id=second.pk)
    with pytest.raises(Conflict, match="撤销"):
        invitation_accept(actor=A(user), token=raw2)
    with pytest.raises(NotFound):
        invitation_accept(actor=A(user), token="not-a-token")
    assert not Membership.objects.filter(user=user).exists()
    with pytest.raises(NotFound):
        invitation_revoke(actor=A(member(Role.ORG_ADMIN, organisation=OrganisationFactory())), invitation_id=second.pk)


def test_a_new_invitation_replaces_the_open_one(org, org_admin, assessor):
    first, raw1 = invite(org_admin, org, assessor)
    _second, raw2 = invite(org_admin, org, assessor)
    first.refresh_from_db()
    assert first.revoked_at is not None
    user = UserFactory(person=assessor)
    with pytest.raises(Conflict):
        invitation_accept(actor=A(user), token=raw1)
    assert invitation_accept(actor=A(user), token=raw2).role == Role.ASSESSOR


def test_a_bureau_invites_its_officer(changchun_bureau, cc_officer, jlc_officer):
    person = someone(name="钱科员")
    _inv, raw = invitation_create(
        actor=A(cc_officer),
        role="bureau_staff",
        name="钱科员",
        id_type="ric",
        id_number=person.id_number,
        bureau_id=changchun_bureau.id,
    )
    with pytest.raises(NotFound):
        invitation_create(
            actor=A(jlc_officer),
            role="bureau_staff",
            name="钱科员",
            id_type="ric",
            id_number=person.id_number,
            bureau_id=changchun_bureau.id,
        )
    user = UserFactory(person=person)
    actor = A(user)
    assert invitation_accept(actor=actor, token=raw).bureau == changchun_bureau
    assert actor.bureau_prefixes == ["2201"]


def test_the_pages_walk_an_invitee_through(org, org_admin, assessor):
    client = client_for(org_admin)
    page = client.post(
        "/accounts/invitations/",
        {
            "organisation_id": org.id,
            "role": "assessor",
            "name": assessor.name,
            "id_type": "ric",
            "id_number": assessor.id_number,
        },
    )
    assert page.status_code == 200
    link = page.context["link"]
    path = link[link.index("/accounts/invite/") :]
    assert path in page.content.decode()
    anonymous = Client().get(path).content.decode()
    assert 'data-step="sign_in"' in anonymous and assessor.name not in anonymous
    user = UserFactory()
    visitor = client_for(user)
    assert 'data-step="bind"' in visitor.get(path).content.decode()
    bind(user, assessor)
    accepting = visitor.get(path).content.decode()
    assert 'data-step="accept"' in accepting
    response = visitor.post(path)
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, role=Role.ASSESSOR, organisation=org).exists()


def test_the_invitation_api(org, org_admin, assessor):
    response = client_for(org_admin).post(
        "/api/v1/accounts/invitations",
        {"role": "assessor", "name": assessor.name, "id_number": assessor.id_number, "organisation_id": org.id},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    token = body["link"].rstrip("/").rsplit("/", 1)[1]
    assert body["state"] == "open" and body["masked_id_number"] != assessor.id_number
    listed = client_for(org_admin).get("/api/v1/accounts/invitations").json()["items"]
    assert [i["id"] for i in listed] == [body["id"]]
    outsider = member(Role.ORG_ADMIN, organisation=OrganisationFactory())
    assert client_for(outsider).get("/api/v1/accounts/invitations").json()["items"] == []
    user = UserFactory(person=assessor)
    accepted = client_for(user).post(
        "/api/v1/accounts/invitations/accept", {"token": token}, content_type="application/json"
    )
    assert accepted.status_code == 200 and accepted.json()["second_factor_required"] is True
