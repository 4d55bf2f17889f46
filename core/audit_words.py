"""The audit log in words, for the people who read it (a bureau, an organisation's admin): who, what, on what.

Every audit action is `<entity>.<verb>`. An action with a label of its own reads by it ("filing.approve" →
批准备案); any other reads as its entity and its verb ("panel.assign" → 考评组 · 指派), so that no code reaches a
page even for an action added later without a label. The object is named by its model's verbose name and its
own text, linked to its page where it has one; the actor by the person's real name.
"""

import functools
import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "filing.create": _("创建备案申请"),
    "filing.update_scope": _("修改备案范围"),
    "filing.attach": _("上传备案材料"),
    "filing.submit": _("提交备案申请"),
    "filing.start_review": _("受理备案审核"),
    "filing.return": _("退回备案修改"),
    "filing.reject": _("不予备案"),
    "filing.approve": _("批准备案"),
    "filing.suspend": _("暂停备案"),
    "filing.reinstate": _("恢复备案"),
    "filing.revoke": _("撤销备案"),
    "filing.expire": _("备案到期"),
    "filing.superseded": _("被新备案取代"),
    "complaint.submit": _("收到举报"),
    "complaint.accept": _("受理举报"),
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
    "inspection.draw": _("随机抽取督查对象"),
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
    "certificate.issue": _("签发证书"),
    "certificate.reissue": _("补发证书"),
    "panel.assign": _("指派考评组成员"),
    "panel.remove": _("移出考评组成员"),
    "plan.create": _("创建认定计划"),
    "plan.publish": _("发布认定计划"),
    "plan.cancel": _("取消认定计划"),
    "plan.reschedule": _("调整考试时间"),
    "plan.supervisor_assign": _("指派督导员"),
    "registration.submit": _("提交报名"),
    "registration.approve": _("报名审核通过"),
    "registration.reject": _("报名审核不通过"),
    "registration.withdraw": _("撤回报名"),
    "subsidy_claim.paid": _("补贴已支付"),
    "subsidy_budget.set": _("登记年度预算"),
    "subsidy_budget.supplement": _("追加预算"),
    "subsidy_declared_certificate.declare": _("申报平台外证书"),
    "subsidy_declared_certificate.record": _("登记平台外证书"),
    "subsidy_declared_certificate.withdraw": _("撤回平台外证书申报"),
    "subsidy_declared_certificate.verify": _("核实平台外证书:一致"),
    "subsidy_declared_certificate.reject": _("核实平台外证书:不符"),
    "user.password_change": _("修改密码"),
    "user.password_reset": _("重置密码"),
    "oidc.sign_in": _("统一身份认证登录"),
    "admin.add": _("在管理后台新增"),
    "admin.change": _("在管理后台修改"),
    "admin.delete": _("在管理后台删除"),
}

ENTITY_LABELS = {
    "account": _("账号"),
    "admin": _("管理后台记录"),
    "api_token": _("接口令牌"),
    "appointment": _("聘任"),
    "binding_code": _("绑定码"),
    "cancellation_choice": _("考生选择"),
    "catalogue_change": _("目录变更"),
    "certificate": _("证书"),
    "comeback": _("回流核查"),
    "complaint": _("举报"),
    "dashboard": _("监管看板"),
    "employment_proof": _("职工证明材料"),
    "exposure": _("曝光"),
    "filing": _("备案"),
    "graduating_class": _("毕业班"),
    "guazheng": _("挂证疑点"),
    "identity": _("身份绑定"),
    "inspection": _("督查"),
    "insurance": _("参保数据"),
    "integrity": _("考培分离例外"),
    "invitation": _("邀请"),
    "national": _("全国数据上报"),
    "oidc": _("统一身份认证"),
    "organisation": _("机构"),
    "panel": _("考评组"),
    "person": _("人员"),
    "plan": _("认定计划"),
    "rectification": _("整改"),
    "reference": _("参考数据"),
    "registration": _("报名"),
    "relationship": _("关系申报"),
    "reliance": _("证书使用"),
    "sanction": _("处理措施"),
    "second_factor": _("第二重验证"),
    "signing_key": _("签名密钥"),
    "subsidy_batch": _("补贴支付批次"),
    "subsidy_budget": _("补贴预算"),
    "subsidy_claim": _("补贴申请"),
    "subsidy_declared_certificate": _("补贴申报证书"),
    "subsidy_policy": _("补贴政策"),
    "supervision": _("督导"),
    "training": _("培训记录"),
    "user": _("用户"),
    "webhook": _("推送"),
}

VERB_LABELS = {
    "accept": _("接受"),
    "accept_refused": _("拒绝接受"),
    "account_create": _("创建账号"),
    "add": _("新增"),
    "apply": _("作出"),
    "approve": _("通过"),
    "assign": _("指派"),
    "assign_prefix": _("分配编号前缀"),
    "attach": _("上传材料"),
    "bank_return": _("登记银行回单"),
    "batch_start": _("开始批量签发"),
    "bind": _("绑定"),
    "bind_refused": _("拒绝绑定"),
    "bulk_submit": _("批量提交"),
    "cancel": _("取消"),
    "change": _("修改"),
    "close": _("办结"),
    "confirm": _("确认"),
    "conflict_open": _("发现冲突"),
    "conflict_resolve": _("处理冲突"),
    "continue": _("选择继续"),
    "copy_create": _("生成分享副本"),
    "copy_withdraw": _("撤回分享副本"),
    "create": _("创建"),
    "declare": _("申报"),
    "delete": _("删除"),
    "delivery_replay": _("重新推送"),
    "discard": _("放弃"),
    "draw": _("抽取"),
    "employment_accept": _("认可职工身份"),
    "end": _("结束"),
    "enrol": _("启用"),
    "exception_grant": _("批准例外"),
    "exception_revoke": _("撤销例外"),
    "export": _("导出"),
    "import": _("导入"),
    "issue": _("签发"),
    "lapse_warning": _("失效提醒"),
    "link": _("关联"),
    "load": _("载入"),
    "more_evidence": _("要求补充材料"),
    "note": _("记录"),
    "objection": _("提出异议"),
    "objection_resolve": _("处理异议"),
    "paid": _("已支付"),
    "payment_failed": _("支付失败"),
    "publish": _("发布"),
    "record": _("记录"),
    "recovery_code_used": _("使用恢复码"),
    "recovery_codes_regenerate": _("重新生成恢复码"),
    "redeem": _("使用"),
    "redeem_failed": _("使用失败"),
    "redeem_refused": _("拒绝使用"),
    "refund": _("退费"),
    "register": _("登记"),
    "reinstate": _("恢复"),
    "reissue": _("补发"),
    "reject": _("驳回"),
    "remove": _("移出"),
    "rename": _("更名"),
    "report": _("报告"),
    "report_export": _("导出报表"),
    "report_feedback": _("上报反馈"),
    "report_release": _("上报"),
    "report_resend": _("重新上报"),
    "reschedule": _("调整时间"),
    "reset": _("重置"),
    "return": _("退回"),
    "revoke": _("撤销"),
    "revoke_bulk": _("批量撤销"),
    "rotate": _("轮换"),
    "scan": _("扫描"),
    "seal_remove": _("删除印章"),
    "set": _("设定"),
    "sign_in": _("登录"),
    "sign_in_failed": _("登录失败"),
    "sign_in_refused": _("拒绝登录"),
    "signup": _("注册"),
    "submit": _("提交"),
    "subscription_auto_disable": _("自动停用订阅"),
    "supervisor_assign": _("指派督导员"),
    "supplement": _("追加"),
    "suspend": _("暂停"),
    "unbind": _("解绑"),
    "update": _("修改"),
    "update_evidence": _("更新材料"),
    "verify": _("验收"),
    "withdraw": _("撤回"),
}


def action_words(action: str) -> str:
    """An audit action as a sentence fragment in the reader's language."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    entity, _dot, verb = (action or "").partition(".")
    entity_label = ENTITY_LABELS.get(entity)
    verb_label = VERB_LABELS.get(verb)
    if entity_label and verb_label:
        return f"{entity_label} · {verb_label}"
    if entity_label:
        return f"{entity_label} · {gettext('其他操作')}"
    return gettext("其他操作")


def actor_words(entry) -> str:
    """Who did it: the person's real name; the system and API tokens in words; never a login name."""
    user = getattr(entry, "actor", None)
    if user is not None:
        return str(getattr(user, "display_name", "") or user.get_full_name() or gettext("平台用户"))
    label = entry.actor_label or ""
    if label.startswith("token:"):
        return gettext("机构接口令牌")
    if label == "system" or not label:
        return gettext("系统自动处理")
    if label.startswith("user:"):
        return gettext("已删除的账号")
    return gettext("其他")


def object_model(object_type: str):
    """The model an audit entry's object_type names ("assessments.panelmember"), or None."""
    try:
        app_label, model_name = object_type.split(".", 1)
        return apps.get_model(app_label, model_name)
    except (ValueError, LookupError):
        return None


# Pages an audited object can be opened on: object_type → (URL name, how to get its argument from the object).
OBJECT_PAGES = {
    "accreditation.filing": ("accreditation:filing", lambda o: o.pk),
    "accreditation.organisation": ("accreditation:organisation", lambda o: o.pk),
    "assessments.plan": ("assessments:manage_plan", lambda o: o.pk),
    "assessments.registration": ("assessments:registration", lambda o: o.pk),
    "assessments.panelmember": ("assessments:manage_plan", lambda o: o.plan_id),
    "certificates.certificate": ("certificates:detail", lambda o: o.pk),
    "subsidies.claim": ("subsidies:claim", lambda o: o.pk),
    "subsidies.paymentbatch": ("subsidies:batch", lambda o: o.pk),
    "oversight.complaint": ("oversight:complaint", lambda o: o.pk),
    "oversight.inspection": ("oversight:inspection", lambda o: o.pk),
    "oversight.guazhengflag": ("oversight:flag", lambda o: o.pk),
}


def object_text(obj) -> str:
    display = getattr(obj, "display_name", None)  # a user: the real name, not the login
    if display is not None and not callable(display):
        return str(display)
    return str(obj)


def describe_objects(entries) -> dict[tuple[str, str], dict]:
    """For a page of entries: (object_type, object_id) → {"kind", "text", "url"}, loading each type's objects once."""
    wanted: dict[str, set[str]] = {}
    for e in entries:
        wanted.setdefault(e.object_type, set()).add(e.object_id)
    described: dict[tuple[str, str], dict] = {}
    for object_type, ids in wanted.items():
        model = object_model(object_type)
        entity = object_type.split(".")[0]
        kind = str(model._meta.verbose_name) if model else str(ENTITY_LABELS.get(entity, gettext("其他对象")))
        found = {}
        if model is not None:
            pks = [i for i in ids if i.isdigit()] if model._meta.pk.get_internal_type().endswith("AutoField") else ids
            found = {str(k): v for k, v in model._default_manager.in_bulk(list(pks)).items()} if pks else {}
        page = OBJECT_PAGES.get(object_type)
        for object_id in ids:
            obj = found.get(object_id)
            url = ""
            if obj is not None and page is not None:
                try:
                    url = reverse(page[0], args=[page[1](obj)])
                except NoReverseMatch:
                    url = ""
            text = object_text(obj) if obj is not None else (gettext("编号 %(id)s") % {"id": object_id})
            described[(object_type, object_id)] = {"kind": kind, "text": text, "url": url}
    return described


# Keys some entries record beside their model's fields (facts of the decision, not columns).
EXTRA_FIELD_LABELS = {
    "period": _("期间"),
    "certificate": _("证书"),
    "publicity": _("公示期"),
    "published": _("公开"),
    "result": _("结果"),
    "effective_on": _("生效日期"),
    "reason": _("理由"),
    "count": _("数量"),
    "rows": _("行数"),
}


@functools.cache
def _choice_labels() -> dict[str, str]:
    """Every choice value's label, platform-wide: for values recorded outside their own model's field."""
    choices: dict[str, str] = {}
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, label in getattr(f, "flatchoices", None) or []:
                if isinstance(value, str) and value and value not in choices:
                    choices[value] = label
    return choices


_CODE = re.compile(r"[a-z][a-z0-9]*(?:[_.:][a-z0-9]+)*")


def _value_words(value, field=None) -> str:
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if value is None:
        return "—"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return " — ".join(_value_words(v) for v in value) if len(value) == 2 else "、".join(map(str, value))
    if isinstance(value, str) and value:
        if field is not None and getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        return str(_choice_labels().get(value, value))
    return str(value)


def field_words(object_type: str, field: str, value) -> tuple[str, str] | None:
    """A changed field and its value as a reader sees them (the field's verbose name, a choice's label), or None
    for what has no words: a key neither the object's model nor EXTRA_FIELD_LABELS names, or a nested record.
    Those stay in the entry's raw record, which the page shows on request."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return None
    model = object_model(object_type)
    f = None
    if model is not None:
        try:
            f = model._meta.get_field(field)
        except FieldDoesNotExist:  # a computed key or a field since removed
            f = None
    label = getattr(f, "verbose_name", None)
    if label is not None and str(label) == field.replace("_", " "):  # Django's default: the field has no name in words
        related = getattr(f, "related_model", None)
        label = related._meta.verbose_name if related is not None else None
    label = label or EXTRA_FIELD_LABELS.get(field)
    if label is None:
        return None
    words = _value_words(value, f)
    # A code no vocabulary has words for ("published", "request_id") is not shown as if it were words: it stays in
    # the raw record with the other technical keys.
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, str) and _CODE.fullmatch(v) and _value_words(v, f) == v for v in values):
        return None
    return str(label), words
