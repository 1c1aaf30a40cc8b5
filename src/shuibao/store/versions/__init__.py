"""Frozen migrations: one module per schema version, each declaring its tables as they were at that version.

A module here never imports ``store/schema.py``: its own ``MetaData`` holds copies of the tables (and stub
tables for the foreign keys it points at, created by an earlier version), so editing the live schema cannot
change what a released migration does.  A released module is never edited; a change is a new module and a new
entry of ``store/migrations.py``.  ``tests/store/test_migrations_frozen.py`` checks that upgrading through
every module gives the database a fresh one has (docs/adr/0010-frozen-migrations.md).
"""
