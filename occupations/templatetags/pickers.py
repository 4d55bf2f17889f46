"""`{% picker "occupation" "occupation_code" value label=... %}`: the one field that picks an occupation or a region.

Without script it is a text input taking a code; static/js/picker.js turns it into a searchable combobox (and,
for regions, a province → prefecture → county cascade) over the reference API.
"""

from itertools import count

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from occupations.models import Occupation, Region

register = template.Library()
_ids = count(1)

PLACEHOLDERS = {
    "occupation": _("输入编码、名称或拼音首字母,如 6-31 或 dg"),
    "region": _("输入名称、代码或拼音首字母,如 长春 或 ccs"),
}


def _display(kind: str, value: str) -> str:
    if not value:
        return ""
    if kind == "region":
        region = Region.objects.select_related("parent__parent").filter(code=value).first()
        return f"{region.full_name} {region.code}" if region else value
    occupation = Occupation.objects.filter(code=value).first()
    return f"{occupation.code} {occupation.name}" if occupation else value


def _param(value) -> str:
    """A list (a bureau officer's regions for `within`) goes as codes separated by commas; None as nothing."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


@register.simple_tag
def picker(kind: str, name: str, value: str = "", label: str = "", required: bool = False, **params) -> str:
    """params go to the API with every search: with_standard=true, within=<region code or list of codes>, ..."""
    if kind not in PLACEHOLDERS:
        raise template.TemplateSyntaxError(f"picker kind must be occupation or region, not {kind!r}")
    field_id = f"picker-{name}-{next(_ids)}"
    api = reverse("api:reference_regions" if kind == "region" else "api:reference_occupations")
    value = str(value or "")
    return format_html(
        '<div class="picker-field"><label for="{}">{}</label>'
        '<input id="{}" type="text" name="{}" value="{}" data-picker="{}" data-api="{}" data-params="{}" '
        'data-display="{}" placeholder="{}" inputmode="search"{}></div>',
        field_id,
        label,
        field_id,
        name,
        value,
        kind,
        api,
        urlencode({k: _param(v) for k, v in params.items() if _param(v) != ""}),
        _display(kind, value),
        str(PLACEHOLDERS[kind]),
        format_html(" {}", "required") if required else "",
    )
