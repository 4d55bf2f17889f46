"""Migration operations for tables that are large in production (certificates, holders, the logs).

`CREATE INDEX` locks a table against writes while it builds: on 10,000,000 certificates that is about a minute in
which nothing can be issued or revoked. `AddIndexOnline` builds the index with PostgreSQL's `CONCURRENTLY`
(reads and writes go on; the migration must say `atomic = False`) and plainly on other databases (SQLite in
development and in `make run`), which Django's own `AddIndexConcurrently` refuses. tests/test_online_migrations.py
makes new migrations on the large tables use them.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


class _OnlineOnPostgres:
    """CONCURRENTLY on PostgreSQL (the parent class); elsewhere the plain operation named by `plain`."""

    plain: type

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexOnline(_OnlineOnPostgres, AddIndexConcurrently):
    plain = AddIndex


class RemoveIndexOnline(_OnlineOnPostgres, RemoveIndexConcurrently):
    plain = RemoveIndex
