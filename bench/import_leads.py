"""CSV import speed against a raw COPY of the same rows, and peak memory.

    python bench/import_leads.py --rows 100000 --json
    -> {"rows_per_s", "copy_rows_per_s", "ratio", "peak_rss_mb", ...}   (goal ratio >= 0.5)

The file is a realistic export (semicolons, French headers, a BOM, quoted cells, some
duplicates and bad addresses) written to disk and streamed by the real importer
(`vectra.leads.importer.import_leads`: sniffing, mapping, COPY into staging, set-based
de-duplication, suppression, quota and insert). The baseline is a raw COPY of the rows the
import stores (valid, de-duplicated, already normalised: the generator knows them) into the
same `leads` table, with the same indexes, for another campaign of the same organization,
in the same database and run, before the import (so the import meets the larger indexes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from leads_support import lift_lead_quota, organization_with_campaign
from sqlalchemy import text

from vectra.db.tenancy import set_tenant
from vectra.leads.csv_reader import size_band
from vectra.leads.importer import import_leads

HEADER = [
    "E-mail",
    "Prénom",
    "Nom",
    "Fonction",
    "Société",
    "Effectif",
    "Pays",
    "Secteur",
    "Téléphone",
]
FIRST = ["Camille", "Léa", "Hugo", "Jürgen", "María", "Ólafur", "Zoë", "Noah", "Inès", "Sven"]
LAST = ["Martin", "Dubois", "Müller", "García", "O'Brien", "Nguyen", "Rossi", "Kowalski"]
TITLES = ["Directeur commercial", "Head of Sales", "CTO", "Leiter Vertrieb", "VP Marketing",
          "Responsable achats", "Jefe de ventas", "Account Executive"]  # fmt: skip
SECTORS = ["SaaS", "Logistique", "Banque; assurance", "Industrie", "E-commerce", "Santé"]


BASELINE_COLUMNS = (
    "campaign_id", "organization_id", "status", "source", "email", "first_name", "last_name",
    "job_title", "company_name", "company_size", "phone", "enrichment_data",
)  # fmt: skip


def _bad(n: int) -> bool:
    return n % 211 == 0


def _duplicate(n: int) -> bool:
    return n % 97 == 0 and n > 0 and not _bad(n) and not _bad(n - 1)


def write_export(
    path: Path, rows: int, seed: int = 7, *, stored: Path | None = None, prefix: str = ""
) -> int:
    """The CSV export; with `stored`, also the rows the import will store, as COPY text
    (each line starting with `prefix`)."""
    rng = random.Random(seed)
    kept = 0
    with (
        path.open("w", encoding="utf-8-sig", newline="") as handle,
        (stored or Path(os.devnull)).open("w", encoding="utf-8") as rows_out,
    ):
        handle.write(";".join(HEADER) + "\r\n")
        for n in range(rows):
            email = f"contact{n}@societe{n % 9000}.example"
            if n % 97 == 0:
                email = f"CONTACT{max(n - 1, 0)}@Societe{max(n - 1, 0) % 9000}.example"  # dup
            if _bad(n):
                email = f"not-an-address-{n}"
            employees = rng.choice([8, 45, 180, 420, 900, 3000])
            cells = [
                email, rng.choice(FIRST), rng.choice(LAST), rng.choice(TITLES),
                f"Société {n % 9000} SAS", str(employees),
                rng.choice(["FR", "DE", "ES", "BE"]), rng.choice(SECTORS), f"+33 6 {n:08d}",
            ]  # fmt: skip
            handle.write(";".join(f'"{c}"' if ";" in c else c for c in cells) + "\r\n")
            if stored is not None and not _bad(n) and not _duplicate(n):
                kept += 1
                enrichment = {"employees": employees, "country": cells[6], "industry": cells[7]}
                stored_row = [
                    "new", "csv", email.lower(), *cells[1:5], size_band(employees), cells[8],
                    json.dumps(enrichment, ensure_ascii=False),
                ]  # fmt: skip
                rows_out.write(prefix + "\t".join(stored_row) + "\n")
    return kept


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    lift_lead_quota(args.rows * 2)

    with tempfile.TemporaryDirectory(prefix="vectra-bench-import-") as tmp:
        root = Path(tmp)
        _server, database, actor, campaign_id = organization_with_campaign(root)
        baseline_campaign = uuid.uuid4()
        with database.owner_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO campaigns (id, organization_id, name) "
                    "VALUES (:c, :o, 'COPY baseline')"
                ),
                {"c": baseline_campaign, "o": actor.organization_id},
            )
        export, stored = root / "export.csv", root / "stored.tsv"
        prefix = f"{baseline_campaign}\t{actor.organization_id}\t"
        expected = write_export(export, args.rows, stored=stored, prefix=prefix)

        # Baseline: the rows the import stores, COPYed as they are into `leads` (owner role:
        # COPY FROM cannot run under row-level security), one transaction.
        raw = database.owner_engine.raw_connection()
        try:
            cursor = raw.cursor()
            started = time.perf_counter()
            with (
                stored.open("rb") as handle,
                cursor.copy(f"COPY leads ({', '.join(BASELINE_COLUMNS)}) FROM STDIN") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            raw.commit()
            copy_seconds = time.perf_counter() - started
        finally:
            raw.close()

        profiler = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        with database.sessions() as session, session.begin():
            set_tenant(session, actor.organization_id)
            with export.open("rb") as handle:
                report = import_leads(session, actor, campaign_id, handle)
        import_seconds = time.perf_counter() - started
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)

    result = {
        "rows": args.rows,
        "rows_per_s": round(args.rows / import_seconds, 1),
        "copy_rows_per_s": round(args.rows / copy_seconds, 1),
        "ratio": round(copy_seconds / import_seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "imported": report.imported,
        "copied": expected,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
