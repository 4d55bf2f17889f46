from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SharedCopy(models.Model):
    """A 加注件: the holder's copy of a certificate for one stated purpose, valid until a date, with its own signed QR.
    It never carries the full ID number."""

    certificate = models.ForeignKey("certificates.Certificate", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("加注件编号"), max_length=24, unique=True)
    purpose = models.CharField(_("用途"), max_length=100)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"))
    token = models.CharField(max_length=200, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    verified_count = models.PositiveIntegerField(_("核验次数"), default=0)
    last_verified_at = models.DateTimeField(_("最近核验"), null=True, blank=True)

    class Meta:
        verbose_name = _("证书加注件")
        verbose_name_plural = _("证书加注件")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} {self.purpose}"
