"""Which AssessmentPolicy applies where and when: the most specific region prefix in force on the date."""

import datetime

from .models import AssessmentPolicy


def policy_for(region_code: str, on: datetime.date) -> AssessmentPolicy:
    """The policy row for the longest matching region prefix in force on `on`; the model's defaults if none."""
    candidates = AssessmentPolicy.objects.filter(effective_from__lte=on).order_by("-effective_from")
    best, best_len = None, -1
    for policy in candidates:
        if region_code.startswith(policy.region_prefix) and len(policy.region_prefix) > best_len:
            best, best_len = policy, len(policy.region_prefix)
    return best or AssessmentPolicy(region_prefix="", effective_from=on)
