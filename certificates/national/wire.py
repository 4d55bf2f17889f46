"""The wire: what a record carries, and the adapter that takes records to the national database.

Wire format (JSON over HTTP(S), UTF-8), one batch per request:

    POST {NATIONAL_REPORT_URL}
    Authorization: Bearer {NATIONAL_REPORT_TOKEN}
    {"sender": "<SITE_URL>", "records": [{"record_id": "<uuid>", "type": "certificate" | "result",
                                          "event": "issued" | "revoked" | … | "result", "data": {…}}]}

    200 {"results": [{"record_id": "<uuid>", "status": "accepted" | "rejected",
                      "receipt": "<the database's id>", "code": "<reason code>", "message": "<reason>"}]}

`data` for a certificate: certificate_number, name, id_type, id_number, occupation_code, occupation_name,
work_type, level_digit, level_name, organisation_name, organisation_credit_code, issued_on, status,
status_reason, status_changed_on, replaced_by. For a result: name, id_type, id_number, occupation_code,
occupation_name, work_type, level_digit, level_name, outcome (passed/failed/absent/void), assessed_on,
plan_reference, organisation_name, organisation_credit_code.

A record's `record_id` never changes: sending it again (after a timeout, a lost answer, a killed worker) must
get the same answer and never a second entry; the receiver keeps the answers it gave. A corrected record is a
new record with a new id. Anything other than a 200 with a `results` entry for a record (a timeout, a refused
connection, a 5xx, a malformed body) is a delivery failure: the record is sent again later.
"""

import datetime
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from assessments.models import Registration
from certificates.models import Certificate


def certificate_data(cert: Certificate) -> dict:
    superseded_by = cert.superseded_by.number if cert.superseded_by_id else ""
    return {
        "certificate_number": cert.number,
        "name": cert.holder_name,
        "id_type": cert.id_type,
        "id_number": cert.id_number,
        "occupation_code": cert.occupation.code if cert.occupation_id else "",
        "occupation_name": cert.occupation_name,
        "work_type": cert.work_type,
        "level_digit": cert.level.number_digit,
        "level_name": cert.level.label,
        "organisation_name": cert.organisation_name,
        "organisation_credit_code": cert.organisation.credit_code if cert.organisation_id else "",
        "issued_on": cert.issued_on.isoformat(),
        "status": cert.status,
        "status_reason": cert.status_reason,
        "status_changed_on": cert.status_changed_on.isoformat() if cert.status_changed_on else "",
        "replaced_by": superseded_by,
    }


def result_data(reg: Registration, assessed_on: datetime.date) -> dict:
    from accounts.identity import ID_TYPES

    plan, org = reg.plan, reg.plan.organisation
    return {
        "name": reg.person.name,
        "id_type": str(dict(ID_TYPES).get(reg.person.id_type, reg.person.id_type)),
        "id_number": reg.person.id_number,
        "occupation_code": plan.occupation.code,
        "occupation_name": plan.occupation.name,
        "work_type": plan.work_type,
        "level_digit": reg.level.number_digit,
        "level_name": reg.level.label,
        "outcome": reg.outcome,
        "assessed_on": assessed_on.isoformat(),
        "plan_reference": f"{org.number_prefix or org.credit_code}-{plan.id}",
        "organisation_name": org.name,
        "organisation_credit_code": org.credit_code,
    }


@dataclass(frozen=True)
class Feedback:
    record_id: str
    accepted: bool
    code: str = ""
    message: str = ""
    receipt: str = ""


class DeliveryFailed(Exception):
    """The batch did not get through (or its answer did not come back); every record in it is sent again later."""


class NationalAdapter(Protocol):
    def send(self, records: list[dict]) -> dict[str, Feedback]:
        """Send wire records; return the feedback per record_id. Raise DeliveryFailed when nothing usable came back."""
        ...


class HttpAdapter:
    """The wire format above over HTTP(S)."""

    def __init__(self, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, records: list[dict]) -> dict[str, Feedback]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = requests.post(
                self.url,
                json={"sender": settings.SITE_URL, "records": records},
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise DeliveryFailed(_("国家数据库在%(s)s秒内未应答") % {"s": self.timeout}) from None
        except requests.RequestException as exc:
            raise DeliveryFailed(_("无法连接国家数据库:%(e)s") % {"e": type(exc).__name__}) from None
        if response.status_code != 200:
            raise DeliveryFailed(_("国家数据库返回HTTP %(code)s") % {"code": response.status_code})
        try:
            results = response.json()["results"]
            feedback = {
                str(r["record_id"]): Feedback(
                    record_id=str(r["record_id"]),
                    accepted=r["status"] == "accepted",
                    code=str(r.get("code") or "")[:64],
                    message=str(r.get("message") or "")[:500],
                    receipt=str(r.get("receipt") or "")[:64],
                )
                for r in results
                if r.get("status") in ("accepted", "rejected")
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DeliveryFailed(_("国家数据库的应答格式无法识别")) from None
        return feedback


def adapter() -> NationalAdapter | None:
    """The configured adapter (NATIONAL_REPORT_ADAPTER, a dotted path, for another wire), else HTTP to
    NATIONAL_REPORT_URL; None when reporting is not configured (records wait, and the pages say why)."""
    if settings.NATIONAL_REPORT_ADAPTER:
        return import_string(settings.NATIONAL_REPORT_ADAPTER)()
    if not settings.NATIONAL_REPORT_URL:
        return None
    return HttpAdapter(settings.NATIONAL_REPORT_URL, settings.NATIONAL_REPORT_TOKEN, settings.NATIONAL_REPORT_TIMEOUT)
