import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .identity import ID_TYPES, RIC, birth_date_from_ric, mask_id_number, mask_phone


class User(AbstractUser):
    """A login. The real-world identity behind it, where there is one, is its Person."""

    person = models.OneToOneField(
        "accounts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def real_name(self) -> str:
        """The name of the person behind the login, or the name the account was given; "" when neither is known."""
        if self.person_id:
            return self.person.name
        return self.get_full_name()

    @property
    def display_name(self) -> str:
        """How staff columns, case notes and audit lines name the account: its real name. An account with none is
        named by its number, never by its login, which is often a phone number or a made-up handle."""
        return self.real_name or gettext("未实名账号 #%(id)s") % {"id": self.pk}


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


# --- Identity: how an account comes to act as a person ------------------------------------------------------
# A Person is a record about someone; an account acts as that person (User.person) only after a binding proved
# through a trusted channel. Typing a name and an ID number proves nothing: both are printed on the certificate.


class BindingChannel(models.TextChoices):
    OIDC = "oidc", _("统一身份认证")
    CODE = "code", _("现场核验绑定码")
    BUREAU = "bureau", _("人社部门核查")


class IdentityBinding(models.Model):
    """The proof behind User.person, kept after the binding ends: which channel vouched, and with what."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="bindings", verbose_name=_("账号"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="bindings", verbose_name=_("人员"))
    channel = models.CharField(_("核验渠道"), max_length=10, choices=BindingChannel.choices)
    evidence = models.JSONField(_("核验依据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    end_reason = models.CharField(_("解除原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("实名绑定")
        verbose_name_plural = _("实名绑定")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="one_live_binding_per_user"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(ended_at__isnull=True), name="one_live_binding_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.person} ({self.get_channel_display()})"


class OidcIdentity(models.Model):
    """An account's subject at an identity provider: the next sign-in through that provider finds the account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(_("身份提供方"), max_length=255)
    subject = models.CharField(_("用户标识"), max_length=255)
    assurance = models.CharField(_("认证等级"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("统一身份认证账号")
        verbose_name_plural = _("统一身份认证账号")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="uniq_oidc_subject")]

    def __str__(self) -> str:
        return f"{self.issuer} · {self.subject}"


class BindingCode(models.Model):
    """A one-time code handed to a person after an in-person ID check; it binds their account once.

    Only a digest of the code is stored. Issuing a new code for a person retires the unused ones."""

    class Place(models.TextChoices):
        EXAM_CHECKIN = "exam_checkin", _("考场身份核验")
        ORGANISATION = "organisation", _("评价机构现场核验")
        BUREAU_WINDOW = "bureau_window", _("人社服务窗口")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="binding_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    place = models.CharField(_("核验场景"), max_length=20, choices=Place.choices)
    issued_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bureau = models.ForeignKey(Bureau, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    context = models.JSONField(_("核验记录"), default=dict, blank=True)  # e.g. {"plan": 12, "registration": 34}
    issued_at = models.DateTimeField(_("发放时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    used_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)

    class Meta:
        verbose_name = _("绑定码")
        verbose_name_plural = _("绑定码")
        indexes = [models.Index(fields=["person", "used_at", "retired_at"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_place_display()} · {self.issued_at:%Y-%m-%d}"

    @property
    def is_live(self) -> bool:
        return self.used_at is None and self.retired_at is None and self.expires_at > timezone.now()


class IdentityConflict(models.Model):
    """Someone named a person differently from the platform's record for the same ID number.

    Never a silent new record and never a silent link: a bureau decides, with evidence, which name is right."""

    class Source(models.TextChoices):
        REGISTRATION = "registration", _("报名")
        IMPORT = "import", _("批量导入")
        APPOINTMENT = "appointment", _("人员登记")
        OIDC = "oidc", _("统一身份认证")
        BINDING_CODE = "binding_code", _("绑定码")
        BUREAU = "bureau", _("人社部门")

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        RECORD_CORRECTED = "corrected", _("已更正记录姓名")
        RECORD_KEPT = "kept", _("维持原记录")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("人员"))
    claimed_name = models.CharField(_("提交的姓名"), max_length=64)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    region_code = models.CharField(_("所属区划"), max_length=6, blank=True, db_index=True)
    context = models.JSONField(_("情况"), default=dict, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("核查结论"), blank=True)
    evidence = models.FileField(_("核查材料"), upload_to="identity/%Y/", blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("身份信息冲突")
        verbose_name_plural = _("身份信息冲突")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "region_code"])]

    def __str__(self) -> str:
        return f"{self.person} ≠ {self.claimed_name}"


class Invitation(models.Model):
    """A role offered to a named person by an organisation or a bureau, through a link that expires.

    It is accepted only by an account already bound (by proof) to that person; nobody grants themselves a role."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("人员"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    bureau = models.ForeignKey(Bureau, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("邮箱"), blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("角色邀请")
        verbose_name_plural = _("角色邀请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
