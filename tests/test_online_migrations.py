"""New migrations on the tables that are large in production build their indexes without locking writes.

`CREATE INDEX` on 10,000,000 certificates locks them against issuing and revoking for about a minute; the
migrations written before this rule (numbers up to BASELINE) ran while the tables were empty. A new one that adds
an index, a constraint or an indexed column to a large table must use core.migration_ops (CREATE INDEX
CONCURRENTLY on PostgreSQL), or do the same by hand in a SeparateDatabaseAndState with `atomic = False`.
"""

import pytest
from django.db import connection, models
from django.db.migrations import Migration
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState

from core.migration_ops import AddIndexOnline, RemoveIndexOnline

LARGE = {
    ("certificates", "certificate"),
    ("certificates", "verificationlog"),
    ("accounts", "person"),
    ("assessments", "registration"),
    ("core", "auditentry"),
    ("subsidies", "claim"),
}
# The last migration of each app written before the rule; later ones are checked.
BASELINE = {"certificates": 8, "accounts": 2, "assessments": 6, "core": 1, "subsidies": 1}


def _number(name: str) -> int:
    return int(name.split("_", 1)[0])


def _indexed(field) -> bool:
    return bool(field.db_index or field.unique or field.is_relation)


def locking_operations(loader: MigrationLoader) -> list[str]:
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in BASELINE and _number(name) > BASELINE[app]:
            found += locking_in(migration, loader.project_state((app, name), at_end=False))
    return found


def locking_in(migration, state: ProjectState) -> list[str]:
    """What in this migration (applied on `state`) would lock a large table while it builds an index."""
    found, app = [], migration.app_label
    for op in migration.operations:
        model = getattr(op, "model_name", None)
        if model is not None and (app, model.lower()) in LARGE:
            where = f"{app}.{migration.name}: {op.describe()}"
            if isinstance(op, ops.AddIndex) and not isinstance(op, AddIndexOnline):
                found.append(f"{where} (use core.migration_ops.AddIndexOnline, atomic = False)")
            elif isinstance(op, ops.RemoveIndex) and not isinstance(op, RemoveIndexOnline):
                found.append(f"{where} (use core.migration_ops.RemoveIndexOnline, atomic = False)")
            elif isinstance(op, ops.AddConstraint):
                found.append(f"{where} (build its index CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX)")
            elif isinstance(op, ops.AddField) and _indexed(op.field):
                found.append(f"{where} (add the column without its index, then AddIndexOnline)")
            elif isinstance(op, ops.AlterField):
                before = state.models[app, model.lower()].fields.get(op.name)
                if before is not None and _indexed(op.field) and not _indexed(before):
                    found.append(f"{where} (keep the field unindexed here, then AddIndexOnline)")
        op.state_forwards(app, state)
    return found


def test_new_migrations_on_large_tables_do_not_lock_them():
    assert locking_operations(MigrationLoader(None, ignore_no_migrations=True)) == []


def test_the_check_finds_what_would_lock_a_large_table():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    latest = max((k for k in loader.disk_migrations if k[0] == "certificates"), key=lambda k: _number(k[1]))
    state = loader.project_state(latest)
    migration = Migration("0099_new_indexes", "certificates")
    migration.operations = [
        ops.AddIndex("certificate", models.Index(fields=["valid_until"], name="cert_until")),
        ops.AddConstraint("certificate", models.UniqueConstraint(fields=["ecert_id", "number"], name="cert_u")),
        ops.AlterField("certificate", "holder_name", models.CharField(max_length=64, db_index=True)),
        ops.AddIndex("statuslist", models.Index(fields=["id"], name="statuslist_id")),  # not a large table
        AddIndexOnline("certificate", models.Index(fields=["issued_on"], name="cert_issued")),
    ]
    found = locking_in(migration, state.clone())
    assert [line.split(" (")[0].split(": ")[1].split()[0] for line in found] == ["Create", "Create", "Alter"]
    assert len(found) == 3 and all("0099_new_indexes" in line for line in found)


@pytest.mark.django_db(transaction=True)
def test_online_index_operations_build_and_drop_the_index():
    """On PostgreSQL with CONCURRENTLY (outside a transaction), on SQLite plainly."""
    state = ProjectState()
    state.add_model(
        ModelState("core", "OnlineProbe", [("id", models.AutoField(primary_key=True)), ("n", models.IntegerField())])
    )
    index = models.Index(fields=["n"], name="online_probe_n")
    add, remove = AddIndexOnline("onlineprobe", index), RemoveIndexOnline("onlineprobe", "online_probe_n")
    with_index = state.clone()
    add.state_forwards("core", with_index)
    model = state.apps.get_model("core", "OnlineProbe")
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        with connection.schema_editor(atomic=False) as editor:
            add.database_forwards("core", editor, state, with_index)
        with connection.cursor() as cursor:
            assert "online_probe_n" in connection.introspection.get_constraints(cursor, model._meta.db_table)
        with connection.schema_editor(atomic=False) as editor:
            remove.database_forwards("core", editor, with_index, state)
        with connection.cursor() as cursor:
            assert "online_probe_n" not in connection.introspection.get_constraints(cursor, model._meta.db_table)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
