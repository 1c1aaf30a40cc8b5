"""Version 10 (issue 19, 2026-12-08): the 补偿费 ledger and the fee's use.

* ``fee_assessments.period`` (TEXT NOT NULL DEFAULT 'once') and the unique index
  ``uq_fee_assessments_period`` on (project_id, period, basis): one assessment per project, period and basis,
  also when two writers race.  Rows already stored: the first area (``area_m2``) assessment of a project keeps
  ``once`` (the national framework charges land take once, 一次性计征); every other older row gets
  ``legacy-<id>``, because the period it covered was not recorded and must not be guessed.
* ``fee_adjustments``: exemptions (免征, with the rule and its citation) and refunds (退费, with the reason),
  append-only.
* ``fee_allocations``: collected fees allocated to treatment projects (专项用于水土流失预防和治理), append-only.

Frozen: the tables, index and triggers as this migration made them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Date, DateTime, ForeignKey, Integer, MetaData, Table, Text, text

from . import _ddl

metadata = MetaData()
_ddl.stub(metadata, "fee_assessments")  # version 3
_ddl.stub(metadata, "treatment_projects")  # version 4


def _stamp() -> list[Column]:
    """Who recorded a row and when."""
    return [Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("recorded_by", Text, nullable=False)]


fee_adjustments = Table(
    "fee_adjustments", metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", Integer, ForeignKey("fee_assessments.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("on_date", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("rule", Text),
    Column("rule_source", Text),
    Column("reason", Text, nullable=False),
    Column("reference", Text),
    *_stamp(),
)

fee_allocations = Table(
    "fee_allocations", metadata,
    Column("id", Integer, primary_key=True),
    Column("treatment_project_id", Integer, ForeignKey("treatment_projects.id"), nullable=False),
    Column("district_code", Text, nullable=False),
    Column("allocated_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reference", Text),
    Column("note", Text, nullable=False),
    *_stamp(),
)

TABLES = (fee_adjustments, fee_allocations)

DESCRIPTIONS = {
    "fee_adjustments": "补偿费 exemptions (免征, with the rule) and refunds (退费, with the reason) (fen)",
    "fee_allocations": "Collected 补偿费 allocated to treatment projects (专项用于水土流失预防和治理) (fen)",
}


def apply(conn: Connection, backend: str) -> None:
    """Add the assessment period and its unique index, and the adjustment and allocation tables."""
    conn.exec_driver_sql("ALTER TABLE fee_assessments ADD COLUMN period TEXT DEFAULT 'once' NOT NULL")
    rows = conn.exec_driver_sql("SELECT id, project_id, basis FROM fee_assessments ORDER BY id").all()
    kept: set[int] = set()
    legacy = []
    for aid, project_id, basis in rows:
        if basis == "area_m2" and project_id not in kept:
            kept.add(project_id)
        else:
            legacy.append({"p": f"legacy-{aid}", "i": aid})
    if legacy:
        conn.execute(text("UPDATE fee_assessments SET period = :p WHERE id = :i"), legacy)
    conn.exec_driver_sql("CREATE UNIQUE INDEX uq_fee_assessments_period ON fee_assessments (project_id, period, basis)")
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    for table in TABLES:
        _ddl.append_only(conn, backend, table.name)
