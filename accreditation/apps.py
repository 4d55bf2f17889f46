from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccreditationConfig(AppConfig):
    name = "accreditation"
    verbose_name = _("评价机构备案")

    def ready(self) -> None:
        from occupations.signals import catalogue_change_impact

        from .selectors import catalogue_change_impact as scope_lines_touched

        catalogue_change_impact.connect(scope_lines_touched, dispatch_uid="accreditation-impact")

        from accounts.binding_codes import organisation_link_register
        from accounts.invitations import appointment_check_register

        from .selectors import appointed_to, organisation_appointed

        organisation_link_register(organisation_appointed)
        appointment_check_register(appointed_to)
