"""What each kind of certificate is called and how its fields are labelled, wherever it is shown (PDF, pages,
verification): one place, so the PDF, the credential and the verification page never disagree."""

from collections.abc import Mapping
from types import MappingProxyType

from django.utils import translation
from django.utils.translation import gettext as _

from .models import Certificate

# Per kind and language, translated once per process: every scan shows them (translation catalogues do not change
# while a process runs).
_captions: dict[tuple[str, str | None], Mapping[str, str]] = {}


def kind_captions(kind: str) -> Mapping[str, str]:
    """Title and labels each kind of certificate is printed (and shown) under: a pre-reform 职业资格证书 keeps its
    own title (人社鉴发〔2021〕1号), and its level is a 职业资格等级, awarded by the body that issued it."""
    key = (kind, translation.get_language())
    found = _captions.get(key)
    if found is None:
        if kind == Certificate.Kind.QUALIFICATION:
            found = {"title": _("职业资格证书"), "level_caption": _("职业资格等级"), "issuer_caption": _("发证机构")}
        else:
            found = {
                "title": _("职业技能等级证书"),
                "level_caption": _("职业技能等级"),
                "issuer_caption": _("评价机构名称"),
            }
        found = _captions[key] = MappingProxyType(found)
    return found


def imported_note(cert: Certificate) -> str:
    """What an imported certificate says about itself: a pre-reform 职业资格证书 stays proof of ability; a
    skill-level certificate first issued on paper is only registered here, not re-issued."""
    if not cert.imported:
        return ""
    if cert.kind == Certificate.Kind.QUALIFICATION:
        return _("改革前取得的职业资格证书,经平台核验登记,继续作为能力水平的证明。")
    return _("原发证机构签发的职业技能等级证书,经平台核验登记。")
