"""What assessments asks of the apps above it."""

from django.dispatch import Signal

# Eligibility evidence: the certificates the platform holds for a person. Keyword argument: person. A receiver
# returns {certificate number: assessments.eligibility.HeldCertificate} with verified=True.
held_certificates = Signal()

# Employment at an employer (用人单位评价本单位职工): social-insurance records the oversight app holds. Keyword
# arguments: person, organisation, on (a date). A receiver returns a list of short descriptions of the records that
# show the person insured by that organisation in that month, e.g. ["长春华信 参保 2023-01 起(参保数据2026-11)"].
employment_records = Signal()
# A plan's results became final (认定结果办结), sent inside the transaction that finalised it, after the outcomes
# are written. Keyword arguments: plan (assessments.models.Plan), actor. Receivers (national reporting of results)
# write their own rows in the same transaction and queue slow work on commit.
plan_finalised = Signal()

# A registration was approved (审核通过), sent inside the approving transaction. Keyword arguments: registration,
# actor. assessments.examday issues the admission ticket when the plan's exam arrangements are complete.
registration_approved = Signal()
# A published plan's sessions (time, room) were set or changed, sent inside that transaction. Keyword arguments:
# plan, actor. assessments.examday issues the tickets that waited for the arrangements.
plan_arrangements_changed = Signal()
# Plans whose exam evidence must be kept past its retention date: an open case about them elsewhere (a complaint).
# Keyword argument: plan_ids (a set). A receiver returns the subset on hold. Asked by the evidence purge.
evidence_holds = Signal()
