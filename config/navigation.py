"""The header's menus: the public entries everyone reaches, and one menu per role the signed-in person holds.

A menu lists where a role works (its queues and lists); the home page (config/home.py) lists what waits there.
Only URL names here, so a new page joins a menu with one line.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Role


@dataclass
class MenuItem:
    label: str
    url: str
    current: bool = False


@dataclass
class Menu:
    key: str
    title: str
    items: list[MenuItem] = field(default_factory=list)


# The public entries are in the header for everyone, signed in or not (issue 17: 证书查询, 举报, 认定计划).
PUBLIC = [
    ("verify_lookup", _("证书查询")),
    ("assessments:plans", _("认定计划")),
    ("oversight:report", _("举报")),
    ("directory:directory", _("机构公示")),
    ("occupations:catalogue", _("目录清单")),
]

MENUS = {
    Role.OPERATOR: (
        _("平台运维"),
        [
            ("admin:index", _("运维管理后台")),
            ("occupations:changes", _("目录清单变更")),
            ("oversight:audit", _("审计日志")),
        ],
    ),
    Role.BUREAU_STAFF: (
        _("人社部门"),
        [
            ("accreditation:queue", _("备案审核")),
            ("subsidies:queue", _("补贴审核")),
            ("subsidies:batches", _("补贴支付")),
            ("subsidies:declared_review", _("平台外证书核实")),
            ("subsidies:budgets", _("补贴资金预算")),
            ("oversight:complaints", _("举报案件")),
            ("oversight:inspections", _("督查与整改")),
            ("oversight:guazheng", _("挂证核查")),
            ("oversight:dashboard", _("监管数据看板")),
            ("subsidies:statistics", _("补贴统计")),
            ("accreditation:supervisors", _("外部督导员")),
            ("accounts:binding_code_desk", _("窗口发放绑定码")),
            ("accounts:conflicts", _("身份信息冲突")),
            ("accounts:invitations", _("邀请工作人员")),
            ("oversight:audit", _("审计日志")),
        ],
    ),
    Role.ORG_ADMIN: (
        _("评价机构"),
        [
            ("accreditation:mine", _("本机构与备案")),
            ("assessments:manage", _("认定计划管理")),
            ("assessments:classes", _("毕业班(双证书)")),
            ("certificates:list", _("证书")),
            ("oversight:reliances", _("证书使用申报")),
            ("oversight:inspections", _("督查与整改")),
            ("accounts:invitations", _("邀请考评员、督导员")),
            ("accounts:binding_code_desk", _("发放绑定码")),
            ("accounts:tokens", _("接口令牌")),
        ],
    ),
    Role.ASSESSOR: (
        _("考评员"),
        [
            ("assessments:score_mine", _("我的考评场次")),
            ("assessments:supervision_relationships", _("申报回避关系")),
        ],
    ),
    Role.SUPERVISOR: (
        _("督导员"),
        [
            ("assessments:supervision_mine", _("督导场次与报告")),
            ("assessments:supervision_relationships", _("申报回避关系")),
        ],
    ),
    Role.TRAINER: (
        _("培训教师"),
        [("assessments:supervision_relationships", _("申报回避关系"))],
    ),
    Role.WORKER: (
        _("我的技能等级"),
        [
            ("assessments:my_registrations", _("我的报名与成绩")),
            ("certificates:mine", _("我的证书")),
            ("subsidies:mine", _("技能提升补贴")),
            ("subsidies:declared", _("平台外证书申报")),
            ("certificates:careers", _("职业发展路径")),
        ],
    ),
}

ORDER = [Role.BUREAU_STAFF, Role.ORG_ADMIN, Role.ASSESSOR, Role.SUPERVISOR, Role.TRAINER, Role.WORKER, Role.OPERATOR]


def _employer_admin(actor: Actor) -> bool:
    return any(
        m.role == Role.ORG_ADMIN and m.organisation and m.organisation.kind == m.organisation.Kind.EMPLOYER
        for m in actor.memberships
    )


def menus_for(actor: Actor, path: str = "") -> list[Menu]:
    """The role menus of a signed-in person, in a fixed order; a worker's also when only a person is bound."""
    if not actor.is_authenticated or actor.user is None:
        return []
    roles = set(actor.roles)
    if actor.person is not None:
        roles.add(Role.WORKER)
    menus = []
    for role in ORDER:
        if role not in roles:
            continue
        title, entries = MENUS[role]
        entries = list(entries)
        if role == Role.ORG_ADMIN and _employer_admin(actor):
            entries.insert(4, ("subsidies:employer", _("代职工申请补贴")))
        items = [MenuItem(str(label), reverse(name)) for name, label in entries]
        # The entry whose address is the longest prefix of the page's is the current one ("/subsidies/declared/"
        # is not also "/subsidies/").
        matching = [i for i in items if path and path.startswith(i.url) and i.url != "/"]
        if matching:
            max(matching, key=lambda i: len(i.url)).current = True
        menus.append(Menu(str(role), str(title), items))
    return menus


def public_entries(path: str = "") -> list[MenuItem]:
    items = []
    for name, label in PUBLIC:
        url = reverse(name)
        items.append(MenuItem(str(label), url, current=path.startswith(url)))
    return items


def navigation(request) -> dict:
    """Context processor: `public_nav` and `role_menus` for templates/base.html."""
    if not hasattr(request, "user"):
        return {}
    actor = Actor.from_request(request)
    return {
        "public_nav": public_entries(request.path),
        "role_menus": menus_for(actor, request.path),
        "site_owner": settings.SITE_OWNER,
        "site_contact_email": settings.SITE_CONTACT_EMAIL,
        "site_icp": settings.SITE_ICP,
    }
