"""Writes for the people around assessments: assessors, trainers, supervisors, and training records.

考培分离 at registration: inside one organisation, nobody is both trainer and assessor (or internal supervisor)
for the same occupation. Per-session recusal against training records is the assessments app's job.
"""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.identity import id_type_from_label, normalise_id_number
from accounts.models import Bureau, Person, Role
from accounts.services import person_get_or_create
from core.audit import audit_record
from core.errors import Conflict, NotFound, PlatformError, ValidationFailed
from core.spreadsheets import Column, ImportReport, RowError, check_rows, parse_date, read_rows, save_all_or_nothing
from occupations.models import Level, Occupation

from .models import Appointment, AppointmentScope, Organisation, TrainingRecord
from .rules import MAX_ATTACHMENT_BYTES, sniff_content_type

EXAMINING_ROLES = (Appointment.Role.ASSESSOR, Appointment.Role.INTERNAL_SUPERVISOR)


@dataclass
class SeparationConflict:
    appointment: Appointment
    occupation: Occupation

    @property
    def explanation(self) -> str:
        return _(
            "考培分离:%(name)s 已在本机构登记为%(role)s(%(occ)s,登记编号%(id)d),同一机构同一职业不得兼任培训与考评"
        ) % {
            "name": self.appointment.person.name,
            "role": self.appointment.get_role_display(),
            "occ": self.occupation.name,
            "id": self.appointment.id,
        }


def separation_conflicts(
    *, person: Person, organisation: Organisation, role: str, occupations: list[Occupation], on: datetime.date
) -> list[SeparationConflict]:
    """Appointments of the same person in the same organisation that the new role would collide with."""
    if role == Appointment.Role.EXTERNAL_SUPERVISOR:
        return []
    opposite = [Appointment.Role.TRAINER] if role in EXAMINING_ROLES else list(EXAMINING_ROLES)
    clashes = AppointmentScope.objects.filter(
        appointment__person=person,
        appointment__organisation=organisation,
        appointment__role__in=opposite,
        appointment__status=Appointment.Status.ACTIVE,
        occupation__in=occupations,
    ).filter(Q(appointment__valid_until__isnull=True) | Q(appointment__valid_until__gte=on))
    return [
        SeparationConflict(s.appointment, s.occupation)
        for s in clashes.select_related("appointment__person", "occupation")
    ]


def _checked_scopes(role: str, scopes: list[dict]) -> list[tuple[Occupation, Level | None]]:
    if not scopes:
        raise ValidationFailed(_("请至少填写一个职业"), details={"field": "scopes"})
    result, seen = [], set()
    for s in scopes:
        occupation = Occupation.objects.filter(code=(s.get("occupation_code") or "").strip()).first()
        if occupation is None:
            raise ValidationFailed(
                _("职业编码“%(c)s”不存在") % {"c": s.get("occupation_code")}, details={"field": "scopes"}
            )
        if occupation.id in seen:
            continue
        seen.add(occupation.id)
        level = None
        if s.get("max_level"):
            level = Level.objects.filter(code=s["max_level"]).first()
            if level is None:
                raise ValidationFailed(_("等级“%(c)s”不存在") % {"c": s["max_level"]}, details={"field": "scopes"})
        elif role == Appointment.Role.ASSESSOR:
            raise ValidationFailed(_("考评员须填写可考评的最高等级"), details={"field": "scopes"})
        result.append((occupation, level))
    return result


@records_conflicts
def appointment_register(
    *,
    actor: Actor,
    role: str,
    name: str,
    id_type: str,
    id_number: str,
    scopes: list[dict],
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    organisation_id: int | None = None,
    bureau_id: int | None = None,
    phone: str = "",
    qualification_note: str = "",
    evidence=None,
) -> Appointment:
    """Register a person in a role. Organisations register their own staff; bureaus their external supervisors."""
    if role not in Appointment.Role.values:
        raise ValidationFailed(_("未知的人员角色"), details={"field": "role"})
    organisation = bureau = None
    if role == Appointment.Role.EXTERNAL_SUPERVISOR:
        actor.require_bureau()
        bureau = next((b for b in actor.bureaus() if b.id == bureau_id), None)
        if bureau is None and actor.is_operator:
            bureau = Bureau.objects.filter(pk=bureau_id).first()
        if bureau is None:
            raise NotFound(_("只能为本部门登记外部督导员"))
    else:
        if organisation_id is None:
            raise ValidationFailed(_("请指定机构"), details={"field": "organisation_id"})
        actor.require_org_role(organisation_id, Role.ORG_ADMIN)
        organisation = Organisation.objects.get(pk=organisation_id)
    valid_from = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < valid_from:
        raise ValidationFailed(_("有效期截止日期早于起始日期"), details={"field": "valid_until"})
    checked = _checked_scopes(role, scopes)
    if evidence is not None:
        if evidence.size > MAX_ATTACHMENT_BYTES or sniff_content_type(evidence.read(16)) is None:
            raise ValidationFailed(_("资质证明只接受10MB以内的PDF、PNG或JPEG文件"), details={"field": "evidence"})
        evidence.seek(0)
    with transaction.atomic():
        person = person_get_or_create(
            actor=actor,
            name=name,
            id_type=id_type,
            id_number=id_number,
            phone=phone,
            source="appointment",
            organisation=organisation,
        )
        if organisation is not None:
            Organisation.objects.select_for_update().get(pk=organisation.pk)  # serialise registrations per org
            conflicts = separation_conflicts(
                person=person,
                organisation=organisation,
                role=role,
                occupations=[o for o, _lv in checked],
                on=valid_from,
            )
            if conflicts:
                raise Conflict(
                    conflicts[0].explanation,
                    code="separation_conflict",
                    details={"rule": "考培分离", "appointments": [c.appointment.id for c in conflicts]},
                )
        duplicate = Appointment.objects.filter(
            person=person, role=role, organisation=organisation, bureau=bureau, status=Appointment.Status.ACTIVE
        )
        if duplicate.exists():
            raise Conflict(_("该人员已登记为%(role)s,请修改原登记") % {"role": Appointment.Role(role).label})
        appointment = Appointment(
            person=person,
            role=role,
            organisation=organisation,
            bureau=bureau,
            valid_from=valid_from,
            valid_until=valid_until,
            qualification_note=(qualification_note or "").strip()[:255],
        )
        if evidence is not None:
            appointment.evidence.save(f"appointment-{person.id}-{role}", evidence, save=False)
        appointment.full_clean(exclude=["evidence"])
        appointment.save()
        for occupation, level in checked:
            AppointmentScope.objects.create(appointment=appointment, occupation=occupation, max_level=level)
        # No role for anyone here: the person's own account gets it only by accepting an invitation
        # (accounts.invitations), sent after this registration.
        region = (organisation.region if organisation else bureau.region).code
        audit_record(
            actor=actor,
            action="appointment.register",
            obj=appointment,
            region_code=region,
            organisation_id=organisation.id if organisation else None,
            after={
                "person": person.id,
                "role": role,
                "scopes": [[o.code, lv.code if lv else None] for o, lv in checked],
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
        )
    return appointment


@transaction.atomic
def appointment_withdraw(*, actor: Actor, appointment_id: int, reason: str) -> Appointment:
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related(
        "organisation__region", "bureau__region"
    )
    appointment = appointment.filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound()
    if appointment.organisation_id:
        actor.require_org_role(appointment.organisation_id, Role.ORG_ADMIN)
    elif not (actor.is_operator or appointment.bureau in actor.bureaus()):
        raise NotFound()
    if appointment.status != Appointment.Status.ACTIVE:
        raise Conflict(_("该登记已注销"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写理由"), details={"field": "reason"})
    appointment.status = Appointment.Status.WITHDRAWN
    appointment.save(update_fields=["status"])
    region = (appointment.organisation.region if appointment.organisation else appointment.bureau.region).code
    audit_record(
        actor=actor,
        action="appointment.withdraw",
        obj=appointment,
        before={"status": "active"},
        after={"status": "withdrawn"},
        reason=reason,
        region_code=region,
        organisation_id=appointment.organisation_id,
    )
    return appointment


# --- Training records --------------------------------------------------------------------------------------

TRAINING_COLUMNS = [
    Column("trainee_name", "学员姓名", example="张伟"),
    Column("trainee_id_type", "学员证件类型", required=False, example="居民身份证"),
    Column("trainee_id_number", "学员证件号码", example="220102199501012238"),
    Column("trainer_name", "培训教师姓名", example="陈晓东"),
    Column("trainer_id_type", "培训教师证件类型", required=False, example="居民身份证"),
    Column("trainer_id_number", "培训教师证件号码", example="220102199209101035"),
    Column("occupation_code", "职业编码", example="6-31-01-03"),
    Column("start", "开始日期", example="2026-03-01"),
    Column("end", "结束日期", example="2026-04-30"),
]


@dataclass
class _TrainingRow:
    trainee: tuple[str, str, str]
    trainer: tuple[str, str, str]
    occupation: Occupation
    start: datetime.date
    end: datetime.date


def _check_training(record: dict) -> _TrainingRow:
    """Validate one record's fields; raise ValidationFailed naming the field."""
    people = {}
    for who, label in (("trainee", _("学员")), ("trainer", _("培训教师"))):
        name = str(record.get(f"{who}_name") or "").strip()
        if not name:
            raise ValidationFailed(_("%(who)s姓名为空") % {"who": label}, details={"column": f"{who}_name"})
        id_type = id_type_from_label(record.get(f"{who}_id_type"))
        try:
            number = normalise_id_number(id_type, str(record.get(f"{who}_id_number") or ""))
        except ValidationFailed as exc:
            raise ValidationFailed(f"{label}:{exc.message}", details={"column": f"{who}_id_number"}) from None
        people[who] = (name, id_type, number)
    if people["trainee"][1:] == people["trainer"][1:]:
        raise ValidationFailed(_("学员与培训教师是同一人"), details={"column": "trainer_id_number"})
    occupation = Occupation.objects.filter(code=str(record.get("occupation_code") or "").strip()).first()
    if occupation is None:
        raise ValidationFailed(
            _("职业编码“%(c)s”不存在") % {"c": record.get("occupation_code")}, details={"column": "occupation_code"}
        )
    try:
        start, end = parse_date(record.get("start")), parse_date(record.get("end"))
    except ValueError as exc:
        raise ValidationFailed(str(exc), details={"column": "start"}) from None
    if end < start:
        raise ValidationFailed(_("结束日期早于开始日期"), details={"column": "end"})
    if start > timezone.localdate():
        raise ValidationFailed(_("开始日期晚于今天"), details={"column": "start"})
    return _TrainingRow(people["trainee"], people["trainer"], occupation, start, end)


def _require_training_provider(actor: Actor, provider_id: int) -> Organisation:
    actor.require_org_role(provider_id, Role.ORG_ADMIN, Role.TRAINER)
    provider = Organisation.objects.select_related("region").get(pk=provider_id)
    if not provider.provides_training:
        raise Conflict(_("本机构未登记为培训机构,不能录入培训记录(可在机构信息中修改)"))
    return provider


def _save_training(actor: Actor, provider: Organisation, row: _TrainingRow) -> TrainingRecord:
    trainee, trainer = (
        person_get_or_create(
            actor=actor, name=name, id_type=id_type, id_number=number, source="import", organisation=provider
        )
        for name, id_type, number in (row.trainee, row.trainer)
    )
    if TrainingRecord.objects.filter(
        provider=provider, trainer=trainer, trainee=trainee, occupation=row.occupation, start=row.start
    ).exists():
        raise Conflict(_("该培训记录已存在"))
    record = TrainingRecord.objects.create(
        provider=provider,
        trainer=trainer,
        trainee=trainee,
        occupation=row.occupation,
        start=row.start,
        end=row.end,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="training.record",
        obj=record,
        region_code=provider.region.code,
        organisation_id=provider.id,
        after={
            "trainer": trainer.id,
            "trainee": trainee.id,
            "occupation": row.occupation.code,
            "start": row.start,
            "end": row.end,
        },
    )
    return record


@records_conflicts
@transaction.atomic
def training_record_create(*, actor: Actor, provider_id: int, **fields) -> TrainingRecord:
    provider = _require_training_provider(actor, provider_id)
    return _save_training(actor, provider, _check_training(fields))


@records_conflicts
def training_records_import(*, actor: Actor, provider_id: int, upload) -> ImportReport:
    """All rows or none: every bad row is reported with its row number and reason, and nothing is saved."""
    provider = _require_training_provider(actor, provider_id)
    rows = read_rows(upload, TRAINING_COLUMNS)
    report = ImportReport(total=len(rows))
    if not rows:
        report.errors.append(RowError(0, _("表格中没有数据行")))
        return report
    checked = check_rows(
        rows,
        _check_training,
        report,
        key=lambda row: (row.trainee[1:], row.trainer[1:], row.occupation.id, row.start),
        duplicate=_("与第%(r)d行重复"),
    )
    if report.errors:
        return report

    def save() -> int:
        for number, row in checked:
            try:
                with transaction.atomic():
                    _save_training(actor, provider, row)
            except PlatformError as exc:
                report.errors.append(RowError(number, exc.message))
            except IntegrityError:
                report.errors.append(RowError(number, _("该培训记录已存在")))
        return len(checked)

    return save_all_or_nothing(report, save)
