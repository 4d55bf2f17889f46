"""数据上报: the issued-certificate report bureau staff send upwards, and an organisation's issuance history.

The report carries full ID numbers: it is for the bureau's own reporting and is never shown to anyone else.
Each export is audited (who exported which region and period, how many rows).
"""

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from core import exports
from core.audit import audit_record
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.models import Export
from core.spreadsheets import csv_cell, export_workbook
from occupations.models import Region

from .models import Certificate

REPORT_HEADERS = [
    "证书编号",
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种",
    "等级",
    "评价机构名称",
    "统一社会信用代码",
    "发证日期",
    "状态",
]
_REPORT_FIELDS = (
    "number",
    "holder_name",
    "id_type",
    "id_number",
    "occupation__code",
    "occupation_name",
    "work_type",
    "level__name",
    "level__title",
    "organisation_name",
    "organisation__credit_code",
    "issued_on",
    "status",
)
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
FORMATS = ("xlsx", "csv")
_STATUS_LABELS = {value: str(label) for value, label in Certificate.Status.choices}


@dataclass(frozen=True)
class Report:
    rows: QuerySet
    count: int
    region: Region | None
    since: datetime.date | None
    until: datetime.date | None
    exact: bool = True  # False: `count` is a lower bound (more rows than any limit that matters)

    @property
    def filename_stem(self) -> str:
        parts = ["certificates", self.region.code if self.region else "all"]
        parts += [d.isoformat() for d in (self.since, self.until) if d is not None]
        return "-".join(parts)


def _bureau_scope(actor: Actor, region_code: str) -> tuple[Q, Region | None]:
    """The certificates this officer reports on: their jurisdiction, or one region inside it."""
    actor.require_bureau()
    if region_code:
        region = Region.objects.filter(code=region_code.strip()).first()
        # A region outside the jurisdiction is a 404, exactly like one that does not exist.
        if region is None or not (actor.is_operator or actor.oversees_region(region)):
            raise NotFound(_("不在本部门辖区内的地区"))
        return Region.code_within_q("region_code", [region.prefix]), region
    if actor.is_operator:
        return Q(), None
    return Region.code_within_q("region_code", actor.bureau_prefixes), None


def _report_query(
    *, actor: Actor, since: datetime.date | None, until: datetime.date | None, region_code: str, file_format: str
) -> Report:
    if file_format not in FORMATS:
        raise ValidationFailed(_("导出格式应为 xlsx 或 csv"), details={"field": "format"})
    if since and until and since > until:
        raise ValidationFailed(_("起始日期不能晚于截止日期"), details={"field": "since"})
    scope, region = _bureau_scope(actor, region_code)
    qs = Certificate.objects.filter(scope)
    if since:
        qs = qs.filter(issued_on__gte=since)
    if until:
        qs = qs.filter(issued_on__lte=until)
    rows = qs.order_by("issued_on", "number").values_list(*_REPORT_FIELDS)
    # Counted only as far as the decision needs (inline, or a worker's file): at 10 million certificates a full count
    # alone takes seconds. The worker counts exactly before it writes, and refuses an xlsx over Excel's limit.
    bound = exports.sync_max_rows() + 1
    count = qs.order_by()[:bound].count()
    return Report(rows=rows, count=count, region=region, since=since, until=until, exact=count < bound)


def certificate_report(
    *,
    actor: Actor,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    region_code: str = "",
    file_format: str = "xlsx",
) -> Report:
    """The certificates issued in the officer's jurisdiction (or one region of it) between two dates, inclusive."""
    report = _report_query(actor=actor, since=since, until=until, region_code=region_code, file_format=file_format)
    count, region = report.count, report.region
    if report.exact:
        _check_xlsx_limit(file_format, count)
    audit_record(
        actor=actor,
        action="certificate.report_export",
        object_type="certificates.certificate",
        after={
            "region": region.code if region else "",
            "since": since,
            "until": until,
            "format": file_format,
            "rows" if report.exact else "rows_more_than": count if report.exact else count - 1,
        },
        region_code=region.code if region else "",
    )
    return report


def _check_xlsx_limit(file_format: str, count: int) -> None:
    if file_format == "xlsx" and count > XLSX_MAX_ROWS:
        raise ValidationFailed(
            _("共%(n)d条,超过 Excel 单表上限,请缩小日期范围或选择 CSV 格式") % {"n": count},
            details={"field": "format", "count": count},
        )


EXPORT_KIND = "certificates.report"


def report_export(*, actor: Actor, report: Report, file_format: str) -> Export:
    """The report built by a worker into a file for this officer (core/exports.py): for reports too large to build
    inside a request. The rows are read again when the worker runs, under the officer's permissions then."""
    params = {
        "region": report.region.code if report.region else "",
        "since": report.since.isoformat() if report.since else "",
        "until": report.until.isoformat() if report.until else "",
    }
    return exports.export_request(
        owner=actor.user,
        kind=EXPORT_KIND,
        title=_("证书数据上报 %(stem)s") % {"stem": report.filename_stem},
        file_format=file_format,
        params=params,
        total=report.count,
        filename=f"{report.filename_stem}.{file_format}",
    )


def _build_export(export: Export) -> exports.Content:
    """Registered in CertificatesConfig.ready(): the rows as the owner may see them now (a permission withdrawn
    since the request fails the export rather than handing out the file)."""
    p = export.params
    report = _report_query(
        actor=Actor.for_user(export.owner),
        since=datetime.date.fromisoformat(p["since"]) if p.get("since") else None,
        until=datetime.date.fromisoformat(p["until"]) if p.get("until") else None,
        region_code=p.get("region", ""),
        file_format=export.file_format,
    )
    total = report.rows.count()
    _check_xlsx_limit(export.file_format, total)
    return exports.Content(
        total=total,
        headers=REPORT_HEADERS,
        rows=report_rows(report.rows.iterator(chunk_size=5000)),
        sheet_title=_("证书数据上报"),
    )


def register_exports() -> None:
    exports.register(EXPORT_KIND, _build_export)


def report_rows(rows: Iterable[tuple]) -> Iterator[list]:
    """Each certificate as the national fields, in REPORT_HEADERS order."""
    for (
        number,
        name,
        id_type,
        id_number,
        occupation_code,
        occupation_name,
        work_type,
        level_name,
        level_title,
        organisation_name,
        credit_code,
        issued_on,
        status,
    ) in rows:
        yield [
            number,
            name,
            id_type,
            id_number,
            occupation_code or "",
            occupation_name,
            work_type,
            f"{level_name}/{level_title}" if level_title else level_name,
            organisation_name,
            credit_code or "",
            issued_on.isoformat(),
            _STATUS_LABELS.get(status, status),
        ]


class _Line:
    """A file-like object that hands back what csv.writer writes, so rows can stream."""

    def write(self, value: str) -> str:
        return value


def report_csv(report: Report) -> Iterator[str]:
    """UTF-8 CSV with a byte-order mark, so that Excel opens the Chinese text correctly."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(REPORT_HEADERS)
    for row in report_rows(report.rows.iterator(chunk_size=2000)):
        yield writer.writerow([csv_cell(v) for v in row])


def report_xlsx(report: Report) -> bytes:
    """The same rows as xlsx; export_workbook writes formula-like text as text cells."""
    return export_workbook(REPORT_HEADERS, report_rows(report.rows.iterator(chunk_size=2000)), _("证书数据上报"))


# --- an organisation's issuance history -------------------------------------------------------------------


def issuance_history(*, actor: Actor, organisation_id: int | None = None) -> QuerySet:
    """Certificates an organisation issued, counted by month and level (newest month first).

    Rows: organisation_id, month (a date, the first of the month), level_code, level_name, level_title, count.
    """
    actor.require_authenticated()
    own = actor.organisation_ids(Role.ORG_ADMIN)
    if organisation_id is not None:
        if not (actor.is_operator or organisation_id in own):
            raise NotFound()
        ids = {organisation_id}
    elif own:
        ids = own
    else:
        raise PermissionDenied(_("仅评价机构管理员可以查看本机构的签发统计"))
    return (
        Certificate.objects.filter(organisation_id__in=ids)
        .annotate(
            month=TruncMonth("issued_on"),
            level_code=F("level__code"),
            level_name=F("level__name"),
            level_title=F("level__title"),
            level_rank=F("level__rank"),
        )
        .values("organisation_id", "month", "level_code", "level_name", "level_title", "level_rank")
        .annotate(count=Count("id"))
        .order_by("-month", "organisation_id", "-level_rank")
    )
