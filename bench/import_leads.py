"""CSV import speed against a raw COPY of the same rows, and peak memory.

    python bench/import_leads.py --rows 100000 --json
    -> {"rows_per_s", "copy_rows_per_s", "ratio", "peak_rss_mb", ...}   (goal ratio >= 0.5)

The file is a realistic export (semicolons, French headers, a BOM, quoted cells, some
duplicates and bad addresses) written to disk and streamed by the real importer
(`vectra.leads.importer.import_leads`: sniffing, mapping, COPY into staging, set-based
de-duplication, suppression, quota and insert). The baseline COPYs the same file, as is,
into a table of text columns in the same database and run.
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
from pathlib import Path

os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from leads_support import lift_lead_quota, organization_with_campaign

from vectra.db.tenancy import set_tenant
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


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(";".join(HEADER) + "\r\n")
        for n in range(rows):
            email = f"contact{n}@societe{n % 9000}.example"
            if n % 97 == 0:
                email = f"CONTACT{max(n - 1, 0)}@Societe{max(n - 1, 0) % 9000}.example"  # dup
            if n % 211 == 0:
                email = f"not-an-address-{n}"
            cells = [
                email, rng.choice(FIRST), rng.choice(LAST), rng.choice(TITLES),
                f"Société {n % 9000} SAS", str(rng.choice([8, 45, 180, 420, 900, 3000])),
                rng.choice(["FR", "DE", "ES", "BE"]), rng.choice(SECTORS), f"+33 6 {n:08d}",
            ]  # fmt: skip
            handle.write(";".join(f'"{c}"' if ";" in c else c for c in cells) + "\r\n")


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
        export = root / "export.csv"
        write_export(export, args.rows)
        _server, database, actor, campaign_id = organization_with_campaign(root)

        # Baseline: the same bytes COPYed, untouched, into text columns.
        raw = database.owner_engine.raw_connection()
        try:
            cursor = raw.cursor()
            columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
            cursor.execute(f"CREATE UNLOGGED TABLE raw_copy ({columns})")
            started = time.perf_counter()
            with (
                export.open("rb") as handle,
                cursor.copy(
                    "COPY raw_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
                ) as copy,
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
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
