"""What the certificates app announces about its own certificates, for the features built on it (national
reporting, webhooks, shared copies) and for any app above that cares.

`certificate_event` is sent inside the transaction that made the change, after the rows are written, so a
receiver that writes rows of its own (an outbox record, a webhook delivery) commits or rolls back with the change
itself, and must queue any slow work with transaction.on_commit. Keyword arguments:
    event: one of EVENTS
    certificates: list[Certificate] — saved rows (with ids); for "replaced", the old certificates, each with
        `superseded_by` set to its new certificate
    actor: accounts.actors.Actor — who made the change (Actor.platform() for issuance runs)
    reason: str — the public reason of a status change ("" for issuance)
Anything that changes a certificate's status in bulk sends one event with all the certificates it changed.
"""

from django.dispatch import Signal

ISSUED, REVOKED, SUSPENDED, REINSTATED, REPLACED = "issued", "revoked", "suspended", "reinstated", "replaced"
EVENTS = (ISSUED, REVOKED, SUSPENDED, REINSTATED, REPLACED)
# The status-change services' action names (certificates/services.py) and the event each announces.
EVENT_FOR_ACTION = {"revoke": REVOKED, "suspend": SUSPENDED, "reinstate": REINSTATED, "replace": REPLACED}

certificate_event = Signal()
