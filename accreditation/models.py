from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.identity import mask_phone


class Organisation(models.Model):
    """An employer (Y) or social training/evaluation organisation (S) that is, or wants to be, an evaluator."""

    class Kind(models.TextChoices):
        EMPLOYER = "Y", _("用人单位")
        SOCIAL = "S", _("社会培训评价组织")

    name = models.CharField(_("机构名称"), max_length=128)
    kind = models.CharField(_("机构类型"), max_length=1, choices=Kind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, verbose_name=_("所在地区"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    provides_training = models.BooleanField(_("同时开展培训"), default=False)
    number_prefix = models.CharField(
        _("证书编号前缀"),
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        help_text=_("备案通过时由人社部门赋予"),
    )
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价机构")
        verbose_name_plural = _("评价机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_contact_phone(self) -> str:
        return mask_phone(self.contact_phone)
