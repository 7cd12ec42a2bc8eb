"""CSV import: stream the file into a staging table with COPY, then one set-based insert.

Parsing is per row (a bad row never stops the good ones); deduplication, suppression and
the plan quota are set operations in PostgreSQL, and the insert is a single statement, so
the import costs little more than a raw COPY. The whole import is one transaction: a file
that cannot be read stores nothing, and the report's counts always add up to `rows`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.campaigns import service as campaigns
from vectra.leads import quota
from vectra.leads.csv_reader import CsvFile, RowError, UnreadableFile, fallback_encodings

MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 2000
COLUMNS = (
    "row_no", "email", "first_name", "last_name", "job_title", "company_name", "company_size",
    "linkedin_url", "phone", "enrichment_data",
)  # fmt: skip
LEAD_COLUMNS = COLUMNS[1:]

Progress = Callable[[int, int], None]  # (bytes read, rows read)


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    suppressed: int = 0
    quota_refused: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)
        else:
            self.errors_truncated = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "suppressed": self.suppressed,
            "quota_refused": self.quota_refused,
            "errors": [e.as_dict() for e in self.errors],
            "errors_truncated": self.errors_truncated,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "columns": self.columns,
        }


_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS lead_import_staging (
    row_no INTEGER PRIMARY KEY, email TEXT NOT NULL, first_name TEXT, last_name TEXT,
    job_title TEXT, company_name TEXT, company_size TEXT, linkedin_url TEXT, phone TEXT,
    enrichment_data JSONB, outcome TEXT
) ON COMMIT DROP;
TRUNCATE lead_import_staging;
"""


def _stage(
    session: Session, source: CsvFile, report: ImportReport, progress: Progress | None
) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        copy_sql = f"COPY lead_import_staging ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            for parsed in source.rows():
                report.rows += 1
                if parsed.error is not None:
                    report.reject(parsed.error)
                else:
                    f = parsed.fields
                    copy.write_row(
                        (
                            parsed.row, f["email"], f.get("first_name"), f.get("last_name"),
                            f.get("job_title"), f.get("company_name"), f.get("company_size"),
                            f.get("linkedin_url"), f.get("phone"),
                            json.dumps(parsed.enrichment, ensure_ascii=False),
                        )
                    )  # fmt: skip
                if progress is not None and report.rows % PROGRESS_EVERY == 0:
                    progress(source.binary.tell(), report.rows)


def _mark(session: Session, sql: str, params: dict[str, Any]) -> int:
    return int(session.execute(text(sql), params).rowcount or 0)  # type: ignore[attr-defined]


def _mark_erased(session: Session, actor: Actor) -> int:
    """Rows whose address was erased: suppressed by a peppered hash only (privacy domain)."""
    from vectra.privacy.hashing import PREFIX, hashed_suppressed

    erased_any = session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM suppressions WHERE organization_id = :org "
            "AND kind = 'email' AND starts_with(value, :prefix))"
        ),
        {"org": actor.organization_id, "prefix": PREFIX},
    ).scalar_one()
    if not erased_any:
        return 0
    emails = session.execute(
        text("SELECT DISTINCT email FROM lead_import_staging WHERE outcome IS NULL")
    ).scalars()
    erased = hashed_suppressed(session, actor.organization_id, emails)
    if not erased:
        return 0
    return _mark(
        session,
        "UPDATE lead_import_staging SET outcome = 'suppressed' "
        "WHERE outcome IS NULL AND email = ANY(CAST(:erased AS text[]))",
        {"erased": sorted(erased)},
    )


def import_leads(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    binary: IO[bytes],
    *,
    column_map: dict[str, str] | None = None,
    source: str = "csv",
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV export into a campaign; the report says what happened to every row."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    start = binary.tell()
    csv_file = CsvFile(binary, column_map=column_map)
    report = ImportReport()
    for encoding in fallback_encodings(csv_file.encoding):
        csv_file.encoding = encoding
        report = ImportReport(encoding=encoding, delimiter=csv_file.delimiter)
        try:
            # A savepoint per attempt: a COPY cut short aborts it, not the caller's transaction.
            with session.begin_nested():
                session.execute(text(_STAGING))
                _stage(session, csv_file, report, progress)
            break
        except UnicodeDecodeError:
            binary.seek(start)  # the guess was wrong further in: start over with the next one
    else:  # pragma: no cover - latin-1 decodes any byte
        raise UnreadableFile("The file's text encoding cannot be read.", field="file")
    report.columns = {
        h: t.removeprefix("x:") if t.startswith("x:") else t
        for h, t in zip(csv_file.headers, csv_file.targets, strict=True)
    }
    params = {"campaign": campaign.id, "org": actor.organization_id}
    session.execute(text("ANALYZE lead_import_staging"))
    report.duplicates += _mark(
        session,
        "UPDATE lead_import_staging s SET outcome = 'duplicate' FROM ("
        " SELECT row_no, row_number() OVER (PARTITION BY email ORDER BY row_no) AS n"
        " FROM lead_import_staging) d WHERE d.row_no = s.row_no AND d.n > 1",
        params,
    )
    report.duplicates += _mark(
        session,
        "UPDATE lead_import_staging s SET outcome = 'duplicate' WHERE outcome IS NULL AND EXISTS ("
        " SELECT 1 FROM leads l WHERE l.campaign_id = :campaign AND lower(l.email) = s.email)",
        params,
    )
    report.suppressed += _mark(
        session,
        "UPDATE lead_import_staging s SET outcome = 'suppressed' WHERE outcome IS NULL AND EXISTS ("
        " SELECT 1 FROM suppressions x WHERE x.organization_id = :org AND ("
        "  (x.kind = 'email' AND x.value = s.email) OR"
        "  (x.kind = 'domain' AND x.value = split_part(s.email, '@', 2))))",
        params,
    )
    report.suppressed += _mark_erased(session, actor)
    candidates = int(
        session.execute(
            text("SELECT count(*) FROM lead_import_staging WHERE outcome IS NULL")
        ).scalar_one()
    )
    granted = quota.reserve_leads(session, actor.organization_id, candidates)
    if granted < candidates:
        report.quota_refused = _mark(
            session,
            "UPDATE lead_import_staging SET outcome = 'quota' WHERE row_no IN ("
            " SELECT row_no FROM lead_import_staging WHERE outcome IS NULL"
            " ORDER BY row_no OFFSET :granted)",
            {**params, "granted": granted},
        )
        report.rejected += report.quota_refused
    lead_columns = ", ".join(LEAD_COLUMNS)
    inserted = _mark(
        session,
        f"INSERT INTO leads (campaign_id, organization_id, status, source, {lead_columns}) "
        f"SELECT :campaign, :org, 'new', :source, {lead_columns} FROM lead_import_staging "
        "WHERE outcome IS NULL ORDER BY row_no ON CONFLICT DO NOTHING",
        {**params, "source": source[:100]},
    )
    # A concurrent import may have added the same address between our check and insert.
    report.duplicates += granted - inserted
    report.imported = inserted
    if progress is not None:
        progress(binary.tell(), report.rows)
    session.flush()
    return report
