"""The re-sit page: the candidate (or their organisation's admin) sees what is taken again, what is carried, the
last day, and the plans open for it, and applies. Rules in scoring.resit_register via services.py."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.pages import perform

from . import selectors, services


@login_required
def resit_page(request, registration_id: int):
    actor = Actor.from_request(request)
    if request.method == "POST":
        plan_id = request.POST.get("plan_id", "")
        resit = perform(
            request,
            lambda: services.resit_request(
                actor=actor, registration_id=registration_id, plan_id=int(plan_id) if plan_id.isdigit() else 0
            ),
            _("已报名补考,只需参加未合格的科目"),
        )
        if resit is not None:
            return redirect("assessments:registration", resit.id)
        return redirect("assessments:resit", registration_id)
    basis, options = selectors.resit_options(actor, registration_id)
    failed = {c.kind for c in basis.failed}
    carried = [(c, basis.results[c.kind]) for c in basis.rules.components if c.kind not in failed]
    return render(
        request,
        "assessments/resits/resit.html",
        {"basis": basis, "options": options, "carried": carried, "reg": basis.original},
    )
