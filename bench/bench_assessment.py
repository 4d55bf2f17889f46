"""Eligibility evaluation and result finalisation for one assessment of 5,000 candidates.

    .venv/bin/python bench/bench_assessment.py              # throwaway SQLite database in a temp folder
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_assess .venv/bin/python bench/bench_assessment.py

Eligibility is timed through the same service registrations use (assessments.registration.evaluate_eligibility),
one candidate at a time; finalisation through assessments.publicity.plan_finalise.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_env(tmp: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["VAR_DIR"] = tmp
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CELERY_BROKER_URL"] = ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_env(tmp)
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone
        from stdnum.cn import ric

        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_reference", verbosity=0)
        from django.core.files.uploadedfile import SimpleUploadedFile

        from accounts.actors import Actor
        from accounts.models import Bureau, Membership, Person, Role, User
        from accreditation import services as filings
        from accreditation.models import Organisation
        from assessments import plans
        from assessments.models import ComponentResult, Plan, Publication, Registration
        from assessments.publicity import plan_finalise
        from assessments.registration import _level_maps, evaluate_eligibility
        from occupations.models import Region

        # An approved organisation with a plan for 电工 levels 4 and 3.
        region = Region.objects.get(code="220102")
        bureau = Bureau.objects.create(name="长春市人社局(基准)", region=Region.objects.get(code="220100"))
        officer = User.objects.create_user("bench_officer")
        Membership.objects.create(user=officer, role=Role.BUREAU_STAFF, bureau=bureau)
        admin = User.objects.create_user("bench_admin")
        org = Organisation.objects.create(
            name="基准评价机构",
            kind="S",
            credit_code="91220102MA0BENCH0X",
            region=region,
            contact_name="x",
            contact_phone="13800000000",
        )
        Membership.objects.create(user=admin, role=Role.ORG_ADMIN, organisation=org)
        a, o = Actor.for_user(admin), Actor.for_user(officer)
        f = filings.filing_create(
            actor=a, organisation_id=org.id, scope=[{"occupation_code": "6-31-01-03", "levels": ["4", "3"]}]
        )
        filings.filing_attach(actor=a, filing_id=f.id, title="表", upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n x"))
        filings.filing_submit(actor=a, filing_id=f.id)
        filings.filing_start_review(actor=o, filing_id=f.id)
        filings.filing_approve(actor=o, filing_id=f.id)
        today = timezone.localdate()
        closes = today + datetime.timedelta(days=5)
        start = timezone.make_aware(datetime.datetime.combine(closes + datetime.timedelta(days=2), datetime.time(9)))
        plan = plans.plan_create(
            actor=a,
            organisation_id=org.id,
            occupation_code="6-31-01-03",
            levels=["4", "3"],
            title="基准",
            venue="v",
            capacity=args.n + 10,
            registration_opens=today,
            registration_closes=closes,
            components=[
                {"kind": "theory", "starts_at": start, "ends_at": start + datetime.timedelta(hours=2)},
                {
                    "kind": "skills",
                    "starts_at": start + datetime.timedelta(hours=3),
                    "ends_at": start + datetime.timedelta(hours=5),
                },
            ],
        )
        plans.plan_publish(actor=a, plan_id=plan.id)
        levels = {lv.code: lv for lv in plan.levels.all()}

        people = []
        for i in range(args.n):
            body = f"22010219{80 + i % 20}{1 + (i // 20) % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
            people.append(Person(name=f"考生{i}", id_type="ric", id_number=body + ric.calc_check_digit(body + "0")))
        Person.objects.bulk_create(people, ignore_conflicts=True)
        people = list(Person.objects.order_by("id")[: args.n])
        evidence = [
            {
                "work_years": Decimal(3 + i % 12),
                "apprenticeship_completed": False,
                "education": [],
                "prior_certificates": [{"occupation_code": "6-31-01-03", "level": "4", "issued_on": "2018-06-30"}]
                if i % 2
                else [],
                "titles": [],
                "credentials": [],
            }
            for i in range(len(people))
        ]

        maps = _level_maps()
        t0 = time.perf_counter()
        results = []
        for i, person in enumerate(people):
            level = levels["3" if i % 2 else "4"]
            results.append(evaluate_eligibility(plan, level, person, evidence[i], level_maps=maps))
        eligibility_s = time.perf_counter() - t0
        statuses = statistics.multimode([str(r.status) for r in results])

        regs = [
            Registration(
                plan=plan,
                person=p,
                level=levels["3" if i % 2 else "4"],
                status="approved",
                pledge_accepted_at=timezone.now(),
                eligibility=results[i].as_dict(),
                eligibility_status=str(results[i].status),
                **evidence[i],
            )
            for i, p in enumerate(people)
        ]
        Registration.objects.bulk_create(regs, batch_size=1000)
        regs = list(Registration.objects.filter(plan=plan).order_by("id"))
        now = timezone.now()
        rows = []
        for i, r in enumerate(regs):
            for kind in ("theory", "skills"):
                score = Decimal(50 + (i * 7 + len(kind)) % 50)
                rows.append(
                    ComponentResult(
                        registration=r, kind=kind, score=score, passed=score >= 60, rule="mean of 1", locked_at=now
                    )
                )
        ComponentResult.objects.bulk_create(rows, batch_size=2000)
        Plan.objects.filter(pk=plan.id).update(status=Plan.Status.PUBLICITY)
        Publication.objects.create(
            plan=plan, starts_on=today - datetime.timedelta(days=10), ends_on=today - datetime.timedelta(days=3)
        )
        t0 = time.perf_counter()
        summary = plan_finalise(actor=a, plan_id=plan.id, today=today)
        finalise_s = time.perf_counter() - t0
        passed = Registration.objects.filter(plan=plan, outcome="passed").count()

        print(f"database: {os.environ['DATABASE_URL'].split(':')[0]}, candidates: {len(people):,}")
        print(
            f"eligibility: {eligibility_s:.2f} s total, {eligibility_s / len(people) * 1000:.2f} ms per candidate "
            f"(most common result: {statuses})"
        )
        print(f"finalisation: {finalise_s:.2f} s for {len(regs):,} candidates ({passed:,} passed); {summary}")


if __name__ == "__main__":
    main()
