"""Who may see marks: trainers do not see the marks or results of candidates of the occupations they train."""

from django.db.models import Q

from accounts.actors import Actor
from accreditation.models import Appointment, TrainingRecord

from ..models import Registration


def trained_occupation_ids(actor: Actor) -> set[int]:
    """Occupations this actor trains: the scopes of their trainer registrations and the occupations of the training
    records that name them as trainer."""
    person = actor.person
    if person is None:
        return set()
    from_appointments = Appointment.objects.filter(
        person=person, role=Appointment.Role.TRAINER, status=Appointment.Status.ACTIVE
    ).values_list("scopes__occupation_id", flat=True)
    from_records = TrainingRecord.objects.filter(trainer=person).values_list("occupation_id", flat=True)
    return {o for o in (*from_appointments, *from_records) if o is not None}


def marks_hidden(actor: Actor, registration: Registration, trained: set[int] | None = None) -> bool:
    """True when the actor trains the registration's occupation and is not the candidate: the marks, results and
    outcome are then not shown to them, whatever else their roles let them read."""
    person = actor.person
    if person is not None and person.id == registration.person_id:
        return False
    trained = trained_occupation_ids(actor) if trained is None else trained
    return registration.plan.occupation_id in trained


def trainer_filter(actor: Actor) -> Q:
    """A filter on registrations that keeps those whose marks the actor may see."""
    trained = trained_occupation_ids(actor)
    if not trained:
        return Q()
    own = Q(person=actor.person) if actor.person is not None else Q(pk__in=[])
    return own | ~Q(plan__occupation_id__in=trained)
