from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _certificate_changed(sender, instance, created=False, **kwargs) -> None:
    """Every changed or deleted certificate goes on the verification feed, so no node answers from an old row.
    (A new one cannot be remembered anywhere yet: unknown numbers are never cached.)"""
    from .verification_cache import certificates_changed

    if instance.number and not created:
        certificates_changed([instance.number])


def _facts_changed(sender, person_ids=None, **kwargs) -> None:
    """core.signals.certificate_facts_changed: a holder's, an occupation's or the catalogue's facts changed, and
    remembered verification answers that print them must go (all of them when no holders are named)."""
    from .models import Certificate
    from .verification_cache import certificates_changed

    if person_ids is None:
        certificates_changed()
    else:
        certificates_changed(Certificate.objects.filter(person_id__in=person_ids).values_list("number", flat=True))


def _catalogue_change_confirmed(sender, **kwargs) -> dict:
    """Verification answers carry the catalogue note: no web node may keep answering from before the change."""
    _facts_changed(sender)
    return {}


def _held_certificates(sender, person, **kwargs) -> dict:
    """assessments.signals.held_certificates: the valid certificates issued or registered here, as verified
    eligibility evidence."""
    from assessments.eligibility import HeldCertificate

    from .models import Certificate

    valid = Certificate.objects.filter(person=person, status=Certificate.Status.VALID).select_related(
        "occupation", "level"
    )
    return {
        c.number: HeldCertificate(
            occupation_code=c.occupation.code if c.occupation else "",
            level_code=c.level.code,
            issued_on=c.issued_on,
            verified=True,
        )
        for c in valid
    }


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("证书")

    def ready(self) -> None:
        from assessments.signals import held_certificates
        from core.signals import certificate_facts_changed
        from occupations.signals import catalogue_change_confirmed

        from .models import Certificate
        from .reporting import register_exports

        register_exports()
        held_certificates.connect(_held_certificates, dispatch_uid="certificates-held")
        certificate_facts_changed.connect(_facts_changed, dispatch_uid="certificates-facts-changed")
        catalogue_change_confirmed.connect(_catalogue_change_confirmed, dispatch_uid="certificates-catalogue-change")
        post_save.connect(_certificate_changed, sender=Certificate, dispatch_uid="certificate-verification-feed")
        post_delete.connect(_certificate_changed, sender=Certificate, dispatch_uid="certificate-verification-feed-del")
