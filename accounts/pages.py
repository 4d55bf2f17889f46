"""The form behind one action on one object's page, made once for every app.

It lives here rather than in core.pages because it needs the Actor; what it runs is core.pages' perform and
form_input, so that a page accepts exactly the input the API accepts and reports a refusal the way every page does.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from pydantic import BaseModel

from core.pages import form_input, perform

from .actors import Actor


def object_action(
    schema: type[BaseModel],
    run: Callable[[Actor, int, Any], object],
    success: str,
    *,
    lookup: Callable[[Actor, int], Any],
    url_kwarg: str,
    redirect_to: str,
):
    """A POST view for one action on the object named by `url_kwarg`: `lookup(actor, id)` finds it or answers 404
    (the resource's one permission helper), `run(actor, id, input)` does the action with the form read through
    `schema`, and the browser goes back to the object's page (`redirect_to`) with `success` or the reason it was
    refused. Used with functools.partial, one per kind of object."""

    @login_required
    @require_POST
    def view(request, **kwargs):
        actor = Actor.from_request(request)
        obj = lookup(actor, kwargs[url_kwarg])
        perform(request, lambda: run(actor, obj.id, form_input(request, schema)), success)
        return redirect(redirect_to, **{url_kwarg: obj.id})

    return view
