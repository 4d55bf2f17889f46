"""Who is acting: a signed-in user or an organisation's API token, with the scopes they hold.

Every permission helper takes an Actor, so pages, the API and tasks share one notion of scope.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext_lazy as _

from core.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed

from .models import ApiToken, Bureau, IdentityBinding, Membership, Role, User

UNBOUND_MESSAGE = _(
    "您的账号尚未实名绑定,不能以本人身份办理。请在“我的账号”页面使用统一身份认证登录完成绑定;"
    "或携带身份证件到考场、评价机构或人社服务窗口核验身份,领取绑定码后在“绑定码绑定”页面输入姓名、"
    "证件号码和绑定码完成绑定。"
)


@dataclass
class Actor:
    user: User | None = None
    token: ApiToken | None = None
    system: bool = False  # scheduled jobs and commands acting for the platform itself
    _memberships: list[Membership] | None = field(default=None, repr=False)

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls()

    @classmethod
    def platform(cls) -> "Actor":
        return cls(system=True)

    @classmethod
    def for_user(cls, user) -> "Actor":
        if user is None or not user.is_authenticated:
            return cls()
        return cls(user=user)

    @classmethod
    def from_request(cls, request) -> "Actor":
        actor = getattr(request, "actor", None)
        if actor is None:
            actor = cls.for_user(getattr(request, "user", None))
            request.actor = actor
        return actor

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None or self.token is not None

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"token:{self.token.key_prefix}@org{self.token.organisation_id}"
        if self.user is not None:
            return f"user:{self.user.username}"
        return "system" if self.system else "anonymous"

    @property
    def memberships(self) -> list[Membership]:
        if self._memberships is None:
            if self.user is None:
                self._memberships = []
            else:
                self._memberships = list(
                    Membership.objects.filter(user=self.user).select_related("bureau__region", "organisation")
                )
        return self._memberships

    @property
    def roles(self) -> set[str]:
        roles = {m.role for m in self.memberships}
        if self.token is not None:
            roles.add(Role.ORG_ADMIN)
        if self.user is not None and self.user.is_superuser:
            roles.add(Role.OPERATOR)
        return roles

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles

    @cached_property
    def bureau_prefixes(self) -> list[str]:
        """Region-code prefixes this actor oversees as bureau staff (province '22', city '2201', …)."""
        return [m.bureau.region.prefix for m in self.memberships if m.role == Role.BUREAU_STAFF]

    def bureaus(self):
        return [m.bureau for m in self.memberships if m.role == Role.BUREAU_STAFF]

    @property
    def jurisdiction_codes(self) -> list[str]:
        """Codes of the regions this actor's bureaus oversee: what a region picker may offer it (the reference API's
        `within`). Empty for an operator, who may pick any region; the services check every code either way."""
        if self.is_operator:
            return []
        return sorted({b.region.code for b in self.bureaus()})

    @property
    def has_default_region(self) -> bool:
        """A bureau action without a chosen region is for this actor's only bureau region (`bureau_region`)."""
        return not self.is_operator and len(self.jurisdiction_codes) == 1

    def oversees_region(self, region) -> bool:
        return any(region.code.startswith(p) for p in self.bureau_prefixes)

    def bureau_region(self, region_code: str = "", *, field: str = "region_code", prompt=None):
        """The region a bureau action is for: the chosen one, which this actor must oversee (else 404, exactly as if
        it did not exist), or this actor's only bureau region when none is chosen (else `prompt` asks for one)."""
        self.require_bureau()
        # The Region model through the bureau's foreign key: accounts sits below occupations and does not import it.
        region_model = Bureau.region.field.related_model
        if region_code:
            region = region_model.objects.filter(code=region_code.strip()).first()
            if region is None or not (self.is_operator or self.oversees_region(region)):
                raise NotFound(_("不在本部门辖区内的地区"))
            return region
        regions = {b.region.code: b.region for b in self.bureaus()}
        if len(regions) != 1:
            raise ValidationFailed(prompt or _("请选择地区"), details={"field": field})
        return next(iter(regions.values()))

    def organisation_ids(self, *roles: str) -> set[int]:
        """Organisations where this actor holds any of `roles` (all organisation roles if none given)."""
        if self.token is not None:
            if not roles or Role.ORG_ADMIN in roles:
                return {self.token.organisation_id}
            return set()
        wanted = set(roles) or {Role.ORG_ADMIN, Role.ASSESSOR, Role.SUPERVISOR, Role.TRAINER}
        return {m.organisation_id for m in self.memberships if m.organisation_id and m.role in wanted}

    @cached_property
    def person(self):
        """The person this account acts as: only one bound through accounts.binding (a proof, still live).

        A User.person left without a live binding (set before bindings needed proof) counts for nothing."""
        if self.user is None or not self.user.person_id:
            return None
        live = IdentityBinding.objects.filter(user=self.user, person_id=self.user.person_id, ended_at__isnull=True)
        return self.user.person if live.exists() else None

    def require_person(self) -> None:
        """Acting as oneself (registering, claiming, scoring, "my …" pages) needs an account bound by proof."""
        self.require_authenticated()
        if self.person is None:
            raise PermissionDenied(UNBOUND_MESSAGE, code="identity_unbound", details={"bind": "/accounts/me/"})

    def require_authenticated(self) -> None:
        if not self.is_authenticated:
            raise NotAuthenticated()

    def require_bureau(self) -> None:
        self.require_authenticated()
        if not self.bureau_prefixes and not self.is_operator:
            raise PermissionDenied(_("仅人社部门工作人员可执行此操作"))

    def require_org_role(self, organisation_id: int, *roles: str) -> None:
        """A member lacking the role gets 403; anyone outside the organisation gets 404, as if it did not exist."""
        self.require_authenticated()
        if organisation_id in self.organisation_ids(*roles):
            return
        if organisation_id in self.organisation_ids():
            raise PermissionDenied(_("您在该机构的角色不能执行此操作"))
        raise NotFound()
