from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("技能补贴")

    def ready(self) -> None:
        from occupations.signals import catalogue_change_confirmed, catalogue_change_impact

        from . import selectors, services

        catalogue_change_impact.connect(selectors.catalogue_change_impact, dispatch_uid="subsidies-impact")
        catalogue_change_confirmed.connect(services.catalogue_change_confirmed, dispatch_uid="subsidies-confirmed")
