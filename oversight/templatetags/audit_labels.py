from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ACTION_LABELS = {
    "filing.create": _("创建申请"),
    "filing.update_scope": _("修改备案范围"),
    "filing.attach": _("上传材料"),
    "filing.submit": _("提交申请"),
    "filing.start_review": _("受理审核"),
    "filing.return": _("退回修改"),
    "filing.reject": _("不予备案"),
    "filing.approve": _("批准备案"),
    "filing.suspend": _("暂停备案"),
    "filing.reinstate": _("恢复备案"),
    "filing.revoke": _("撤销备案"),
    "filing.expire": _("备案到期"),
    "filing.superseded": _("被新备案取代"),
}


@register.filter
def action_label(action: str) -> str:
    """The audit action as a person reads it; unknown actions show their code."""
    return str(ACTION_LABELS.get(action, action))
