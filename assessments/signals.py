"""What assessments asks of the apps above it."""

from django.dispatch import Signal

# Eligibility evidence: the certificates the platform holds for a person. Keyword argument: person. A receiver
# returns {certificate number: assessments.eligibility.HeldCertificate} with verified=True.
held_certificates = Signal()
