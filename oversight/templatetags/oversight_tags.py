import json

from django import template
from django.utils.translation import gettext_lazy as _

from .audit_labels import ACTION_LABELS

register = template.Library()

OVERSIGHT_ACTION_LABELS = {
    "complaint.submit": _("收到举报"),
    "complaint.accept": _("受理"),
    "complaint.assign": _("指定承办人"),
    "complaint.reject": _("不予受理"),
    "complaint.start_investigation": _("开始调查"),
    "complaint.note": _("调查记录"),
    "complaint.attach": _("上传证据材料"),
    "complaint.close": _("办结"),
    "complaint.open_from_detection": _("数据比对立案"),
    "sanction.apply": _("作出处理措施"),
    "exposure.publish": _("曝光"),
    "exposure.withdraw": _("撤下曝光"),
    "reliance.declare": _("申报使用证书"),
    "reliance.end": _("结束使用证书"),
    "insurance.import": _("导入参保数据"),
    "guazheng.flag_raise": _("发现挂证疑点"),
    "guazheng.flag_update": _("更新疑点依据"),
    "guazheng.flag_reopen": _("疑点重新成立"),
    "guazheng.flag_clear": _("疑点不再成立"),
    "guazheng.flag_investigate": _("疑点立案"),
    "guazheng.flag_dismiss": _("排除疑点"),
    "guazheng.flag_case_closed": _("疑点随案件办结"),
    "inspection.draw": _("随机抽取"),
    "inspection.plan": _("计划督查"),
    "inspection.record_findings": _("记录检查结果"),
    "inspection.start_rectification": _("进入整改"),
    "inspection.escalate": _("升级处理"),
    "inspection.close": _("督查结案"),
    "rectification.order": _("下达限期整改"),
    "rectification.submit": _("报送整改情况"),
    "rectification.verify": _("验收整改"),
    "rectification.return": _("退回整改"),
    "dashboard.export": _("导出看板数据"),
    "certificate.suspend": _("暂停证书"),
    "certificate.revoke": _("撤销证书"),
    "certificate.reinstate": _("恢复证书"),
}


@register.filter
def oversight_action(action: str) -> str:
    """Any audit action as a person reads it: oversight's own, then the platform's, else the code."""
    return str(OVERSIGHT_ACTION_LABELS.get(action) or ACTION_LABELS.get(action) or action)


@register.simple_tag(takes_context=True)
def page_query(context) -> str:
    """The current query string without `page`, for pagers that keep the filters."""
    request = context.get("request")
    if request is None:
        return ""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _short(value, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def audit_changes(entry) -> list[tuple[str, str, str]]:
    """An entry's before/after as (field, before, after) rows, values shortened for a table cell."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before) if before else "", _short(after) if after else "")]
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, _short(before[k]) if k in before else "", _short(after[k]) if k in after else "") for k in keys]
