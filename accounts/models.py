import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .identity import ID_TYPES, RIC, birth_date_from_ric, mask_id_number, mask_phone


class User(AbstractUser):
    """A login. The real-world identity behind it, where there is one, is its Person."""

    person = models.OneToOneField(
        "accounts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def display_name(self) -> str:
        if self.person_id:
            return self.person.name
        return self.get_full_name() or self.username


class Person(models.Model):
    """A real person: worker, assessor, trainer, supervisor. Looked up by (ID type, ID number)."""

    name = models.CharField(_("姓名"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=ID_TYPES, default=RIC)
    id_number = models.CharField(_("证件号码"), max_length=32)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    photo = models.ImageField(_("照片"), upload_to="photos/%Y/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints = [models.UniqueConstraint(fields=["id_type", "id_number"], name="uniq_person_id")]
        indexes = [models.Index(fields=["id_number"])]

    def __str__(self) -> str:
        return f"{self.name}({self.masked_id_number})"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def derive(self) -> None:
        if self.id_type == RIC and not self.birth_date:
            self.birth_date = birth_date_from_ric(self.id_number)


class Bureau(models.Model):
    """A human-resources bureau (人社厅/局). Its staff see its region and everything below it."""

    name = models.CharField(_("名称"), max_length=128, unique=True)
    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, verbose_name=_("辖区"))
    filing_validity_years = models.PositiveSmallIntegerField(
        _("备案有效期(年)"), default=3, help_text=_("本部门批准的备案默认有效期,按本地政策设置")
    )

    class Meta:
        verbose_name = _("人社部门")
        verbose_name_plural = _("人社部门")
        ordering = ["region__code"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OPERATOR = "operator", _("平台运维")
    BUREAU_STAFF = "bureau_staff", _("人社部门工作人员")
    ORG_ADMIN = "org_admin", _("评价机构管理员")
    ASSESSOR = "assessor", _("考评员")
    SUPERVISOR = "supervisor", _("督导员")
    TRAINER = "trainer", _("培训教师")
    WORKER = "worker", _("劳动者")


ORG_ROLES = (Role.ORG_ADMIN, Role.ASSESSOR, Role.SUPERVISOR, Role.TRAINER)


class Membership(models.Model):
    """A role a user holds, in a bureau (bureau staff, external supervisors) or an organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    bureau = models.ForeignKey(Bureau, null=True, blank=True, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="members"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "bureau"],
                condition=Q(bureau__isnull=False),
                name="uniq_membership_bureau",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "organisation"],
                condition=Q(organisation__isnull=False),
                name="uniq_membership_org",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(organisation__isnull=True, bureau__isnull=True),
                name="uniq_membership_personal",
            ),
            models.CheckConstraint(
                name="membership_has_right_scope",
                condition=(
                    Q(role="bureau_staff", bureau__isnull=False, organisation__isnull=True)
                    | Q(
                        role__in=["org_admin", "assessor", "trainer"],
                        organisation__isnull=False,
                        bureau__isnull=True,
                    )
                    | Q(role="supervisor") & (Q(organisation__isnull=False) ^ Q(bureau__isnull=False))
                    | Q(role__in=["worker", "operator"], organisation__isnull=True, bureau__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        where = self.bureau or self.organisation or ""
        return f"{self.user} · {self.get_role_display()} {where}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for an organisation's own systems. Only the SHA-256 of the key is stored."""

    PREFIX = "sk_"

    organisation = models.ForeignKey("accreditation.Organisation", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=64)
    key_prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def new_key(cls) -> tuple[str, str, str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        return raw, raw[:10], _hash_token(raw)

    @classmethod
    def find_active(cls, raw: str) -> "ApiToken | None":
        if not raw.startswith(cls.PREFIX):
            return None
        token = cls.objects.select_related("organisation").filter(key_hash=_hash_token(raw)).first()
        if token is None or token.revoked_at is not None:
            return None
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
