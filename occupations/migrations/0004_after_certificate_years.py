"""Routes worded "取得X级证书后,累计从事本职业或相关职业工作满N年" count the N years from that certificate.

The reference data now says so (`min_years_since` on the certificate condition); this brings databases loaded
before up to date without overwriting anything else an operator edited. Frozen here, not read from the JSON file,
so that the migration means the same thing whenever it runs."""

from django.db import migrations

AFTER_CERTIFICATE = {
    "2018": {"L5W4": 4, "L4W5": 5, "COLLEGE_L4W2": 2, "L3W4": 4, "L2W4": 4},
    "2023": {"L5W3": 3, "L4W4": 4, "L3W5": 5, "L2W5": 5},
}
AFTER_TITLE = {"2023": {"JR_TITLE_W5": 5}}


def forwards(apps, schema_editor):
    StandardLevel = apps.get_model("occupations", "StandardLevel")
    EquivalenceRule = apps.get_model("occupations", "EquivalenceRule")
    for sl in StandardLevel.objects.select_related("standard"):
        template = sl.standard.template
        changed = False
        for route in sl.eligibility or []:
            if not isinstance(route, dict):
                continue
            for kind, table in (("certificate", AFTER_CERTIFICATE), ("title", AFTER_TITLE)):
                years = table.get(template, {}).get(route.get("code"))
                if years is None:
                    continue
                for condition in route.get("all") or []:
                    if isinstance(condition, dict) and condition.get("type") == kind:
                        if not condition.get("min_years_since"):
                            condition["min_years_since"] = years
                            changed = True
        if changed:
            sl.save(update_fields=["eligibility"])
    EquivalenceRule.objects.filter(code="JR_TITLE_W5", min_years=0).update(min_years=5)


class Migration(migrations.Migration):
    dependencies = [("occupations", "0003_catalogue_sources")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
