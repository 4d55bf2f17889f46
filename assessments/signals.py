"""What assessments asks of the apps above it."""

from django.dispatch import Signal

# Eligibility evidence: the certificates the platform holds for a person. Keyword argument: person. A receiver
# returns {certificate number: assessments.eligibility.HeldCertificate} with verified=True.
held_certificates = Signal()

# A plan's results became final (认定结果办结), sent inside the transaction that finalised it, after the outcomes
# are written. Keyword arguments: plan (assessments.models.Plan), actor. Receivers (national reporting of results)
# write their own rows in the same transaction and queue slow work on commit.
plan_finalised = Signal()
