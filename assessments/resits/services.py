"""Re-sits (补考) requested by the candidate or their organisation: the rules are scoring.resit_register's (a failed
component, the same organisation, occupation, standard and level, within the standard's window); the re-sit then
goes through the new plan's panels, tickets, check-in and scoring like any registration."""

from django.db import transaction

from accounts.actors import Actor

from ..examday.services import tickets_auto_issue
from ..models import Registration
from ..scoring import resit_register


@transaction.atomic
def resit_request(*, actor: Actor, registration_id: int, plan_id: int) -> Registration:
    resit = resit_register(actor=actor, registration_id=registration_id, plan_id=plan_id)
    # Approved as it is made: the re-sit candidate gets a ticket at once, with the next seat, once the re-sit plan's
    # arrangements are complete (or when they become so).
    tickets_auto_issue(actor=actor, plan=resit.plan, registration_ids=[resit.pk])
    return resit
