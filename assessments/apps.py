from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("认定考核")

    def ready(self) -> None:
        from occupations.signals import catalogue_change_confirmed, catalogue_change_impact

        from .cancellations import services as cancellations

        catalogue_change_impact.connect(cancellations.catalogue_change_impact, dispatch_uid="assessments-impact")
        catalogue_change_confirmed.connect(
            cancellations.catalogue_change_confirmed, dispatch_uid="assessments-confirmed"
        )

        from accounts.binding_codes import organisation_link_register

        from .registration import organisation_registered

        organisation_link_register(organisation_registered)

        from .examday.services import on_plan_arrangements_changed, on_registration_approved
        from .signals import plan_arrangements_changed, registration_approved

        registration_approved.connect(on_registration_approved, dispatch_uid="examday-ticket-on-approval")
        plan_arrangements_changed.connect(on_plan_arrangements_changed, dispatch_uid="examday-tickets-on-arrangements")
