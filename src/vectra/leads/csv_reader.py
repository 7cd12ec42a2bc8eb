"""Reading customers' CSV exports as they are: encoding, delimiter, header synonyms.

Real exports come from HubSpot, Salesforce, Apollo, Sales Navigator, Pipedrive, lemlist and
spreadsheets in French, German or Spanish: UTF-8 with or without BOM, UTF-16, cp1252, `,`
`;` or tab, CRLF, quoted multi-line cells. Rows are numbered as a spreadsheet shows them
(the header is row 1). Columns that are not lead fields go to `enrichment_data`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from charset_normalizer import from_bytes

from vectra.errors import InvalidInput
from vectra.leads.normalize import BadEmail, normalize_email

SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t|"
LEAD_FIELDS = {
    "email": 255,
    "first_name": 100,
    "last_name": 100,
    "job_title": 200,
    "company_name": 255,
    "company_size": 50,
    "linkedin_url": 500,
    "phone": 50,
}
# Not columns of `leads`, but understood: split into first/last name, or sized into a band.
DERIVED_FIELDS = {"full_name", "employees"}
ENRICHMENT_FIELDS = {
    "company_domain", "industry", "country", "city", "timezone", "seniority", "department",
    "keywords", "technologies", "revenue", "funding", "notes",
}  # fmt: skip
LIST_FIELDS = {"keywords", "technologies"}
TARGETS = set(LEAD_FIELDS) | DERIVED_FIELDS | ENRICHMENT_FIELDS | {"ignore"}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e mail", "email address", "e mail address", "work email", "business email",
        "email 1", "primary email", "person email", "contact email", "emails", "mail",
        "courriel", "adresse e mail", "adresse email", "adresse mail", "e mail adresse",
        "emailadresse", "email adresse", "correo", "correo electronico", "email personal",
    ),
    "first_name": ("first name", "firstname", "given name", "first", "prenom", "vorname", "nombre"),
    "last_name": (
        "last name", "lastname", "surname", "family name", "last", "nom", "nom de famille",
        "nachname", "familienname", "apellido", "apellidos",
    ),
    "full_name": (
        "name", "full name", "contact name", "person name", "contact", "nom complet",
        "vollstandiger name", "nombre completo",
    ),
    "job_title": (
        "title", "job title", "jobtitle", "position", "role", "job", "job position", "headline",
        "fonction", "poste", "titre", "intitule de poste", "berufsbezeichnung", "jobtitel",
        "cargo", "puesto",
    ),
    "company_name": (
        "company", "company name", "account name", "account", "organization", "organisation",
        "organization name", "current company", "employer", "societe", "entreprise",
        "nom de l entreprise", "firma", "unternehmen", "firmenname", "empresa", "compania",
    ),
    "employees": (
        "employees", "number of employees", "employee count", "num employees", "headcount",
        "company headcount", "effectif", "effectifs", "nombre d employes", "mitarbeiter",
        "mitarbeiteranzahl", "anzahl mitarbeiter", "empleados", "numero de empleados",
    ),
    "company_size": ("company size", "size", "taille", "taille de l entreprise",
                     "unternehmensgrosse", "tamano de la empresa", "tamano empresa"),
    "linkedin_url": (
        "linkedin", "linkedin url", "person linkedin url", "linkedin profile", "profile url",
        "linkedin profile url", "url linkedin", "profil linkedin", "linkedin profil",
    ),
    "phone": (
        "phone", "phone number", "mobile", "mobile phone", "work phone", "direct phone",
        "corporate phone", "telephone", "tel", "portable", "telefon", "telefonnummer",
        "handy", "telefono", "movil",
    ),
    "company_domain": (
        "website", "company website", "domain", "company domain", "web", "site web",
        "site internet", "webseite", "sitio web",
    ),
    "industry": ("industry", "industrie", "secteur", "secteur d activite", "branche",
                 "industria", "sector"),
    "country": ("country", "country code", "pays", "land", "pais"),
    "city": ("city", "ville", "stadt", "ort", "ciudad"),
    "seniority": ("seniority", "niveau hierarchique", "seniority level"),
    "department": ("department", "departments", "departement", "abteilung", "departamento"),
    "technologies": ("technologies", "tech stack", "technologien", "tecnologias"),
    "revenue": ("revenue", "annual revenue", "chiffre d affaires", "umsatz", "ingresos"),
    "funding": ("funding", "total funding", "latest funding", "funding stage"),
    "keywords": ("keywords", "tags", "mots cles", "schlagworter", "palabras clave"),
    "timezone": ("timezone", "time zone"),
    "notes": ("notes", "note", "remarques", "notizen", "notas", "comments"),
}  # fmt: skip
SYNONYMS: dict[str, str] = {s: target for target, keys in _SYNONYMS.items() for s in keys}

SIZE_BANDS = [(10, "1-10"), (50, "11-50"), (200, "51-200"), (500, "201-500"),
              (1000, "501-1000"), (5000, "1001-5000")]  # fmt: skip


class UnreadableFile(InvalidInput):
    """The file cannot be read as CSV; nothing was stored."""


def header_key(header: str) -> str:
    """'Prénom' -> 'prenom', 'E-mail Address' -> 'e mail address', '# Employees' -> 'employees'."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).split())


def size_band(employees: int) -> str:
    """The `company_size` band of an employee count (target_criteria's bands)."""
    for upper, band in SIZE_BANDS:
        if employees <= upper:
            return band
    return "5001+"


def parse_employees(raw: str) -> int | None:
    """'1,200' -> 1200; '51-200' -> 200 (the band's top); '5000+' -> 5000."""
    if raw.isascii() and raw.isdigit():
        return int(raw)  # the common case, without the regular expressions below
    # Thousands separators vary: 1,200 / 1.200 / 1 200 / 1\u202f200 / 1'200.
    joined = re.sub(r"(?<=\d)[\s,.'\u00a0\u202f](?=\d{3}(?!\d))", "", raw)
    numbers = [int(n) for n in re.findall(r"\d+", joined)]
    return max(numbers) if numbers else None


# --- encoding -------------------------------------------------------------------------------


_LATIN_FAMILY = ("cp125", "latin", "iso8859", "mac_", "cp4", "cp7", "cp8", "cp1006")


def detect_encoding(sample: bytes) -> str:
    """The sample's encoding: BOMs first, then UTF-8, then charset-normalizer, then cp1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 4:
        # UTF-16 without a BOM: every ASCII character has a NUL beside it.
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample[:65536]).best()
    guess = str(best.encoding) if best is not None else "cp1252"
    # Short samples make Latin code pages look alike (cp1250 vs cp1252); Western exports
    # dominate, so cp1252 wins among them whenever it decodes the sample cleanly.
    if guess.startswith(_LATIN_FAMILY) or guess in ("utf_8", "ascii"):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1" if guess in ("utf_8", "ascii") else guess
    return guess


def fallback_encodings(first: str) -> list[str]:
    """Encodings to try, in order, when `first` fails further into the file."""
    chain = [first]
    for encoding in ("cp1252", "latin-1"):
        if codecs.lookup(encoding).name != codecs.lookup(first).name:
            chain.append(encoding)
    return chain


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line; csv.Sniffer breaks ties."""
    first_line = text.split("\n", 1)[0]
    counts = {d: _count_outside_quotes(first_line, d) for d in DELIMITERS}
    best = max(counts.values())
    if best == 0:
        return ","
    winners = [d for d, c in counts.items() if c == best]
    if len(winners) == 1:
        return winners[0]
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters="".join(winners)).delimiter
    except csv.Error:
        return winners[0]


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


# --- mapping and rows -------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ParsedRow:
    row: int
    fields: dict[str, str] = field(default_factory=dict)
    enrichment: dict[str, Any] = field(default_factory=dict)
    error: RowError | None = None


def build_mapping(headers: list[str], overrides: dict[str, str] | None = None) -> list[str]:
    """The target of each column: a lead field, an enrichment key, or 'ignore'."""
    overrides = {header_key(k): v for k, v in (overrides or {}).items()}
    for column, wanted in overrides.items():
        if wanted not in TARGETS and not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", wanted):
            raise InvalidInput(
                f"--map {column}={wanted}: '{wanted}' is not a lead field "
                f"({', '.join(sorted(TARGETS))}) nor an enrichment key.",
                field="map",
            )
    targets: list[str] = []
    taken: set[str] = set()
    for header in headers:
        key = header_key(header)
        target: str | None = overrides.get(key) or SYNONYMS.get(key)
        if target is None or (target in taken and target != "ignore"):
            # Unknown (or a second column for a field already mapped): keep it as enrichment.
            target = "x:" + (key.replace(" ", "_") or f"column_{len(targets) + 1}")
        taken.add(target)
        targets.append(target)
    if "email" not in taken:
        raise UnreadableFile(
            "No email column found; name it 'email' (or E-mail, Work Email, Courriel...) or "
            "map one with --map COLUMN=email.",
            field="file",
            columns=headers,
        )
    return targets


def parse_row(row_no: int, cells: list[str], headers: list[str], targets: list[str]) -> ParsedRow:
    """One data row checked and split into lead fields and enrichment data."""
    parsed = ParsedRow(row=row_no)
    if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
        parsed.error = RowError(
            row_no, None, f"row has {len(cells)} cells but the header has {len(headers)}"
        )
        return parsed
    full_name = None
    for header, target, raw in zip(headers, targets, cells, strict=False):
        value = raw.strip()
        if not value or target == "ignore":
            continue
        if target == "email":
            try:
                parsed.fields["email"] = normalize_email(value)
            except BadEmail as exc:
                parsed.error = RowError(row_no, header, f"not a valid email: {exc}")
                return parsed
        elif target in LEAD_FIELDS:
            if target == "company_size" and (n := parse_employees(value)) is not None:
                value = size_band(n) if not re.fullmatch(r"\d+\s*-\s*\d+|\d+\+", value) else value
            if len(value) > LEAD_FIELDS[target]:
                parsed.error = RowError(
                    row_no, header, f"longer than {LEAD_FIELDS[target]} characters"
                )
                return parsed
            parsed.fields[target] = value
        elif target == "full_name":
            full_name = value
        elif target == "employees":
            employees = parse_employees(value)
            if employees is None:
                parsed.enrichment["employees_raw"] = value
            else:
                parsed.enrichment["employees"] = employees
                parsed.fields.setdefault("company_size", size_band(employees))
        elif target in LIST_FIELDS:
            parsed.enrichment[target] = [p.strip() for p in re.split(r"[,;|]", value) if p.strip()]
        elif target in ENRICHMENT_FIELDS:
            parsed.enrichment[target] = (
                value.upper() if target == "country" and len(value) == 2 else value
            )
        else:
            parsed.enrichment[target.removeprefix("x:")] = value
    if "email" not in parsed.fields:
        email_header = headers[targets.index("email")]
        parsed.error = RowError(row_no, email_header, "email is empty")
        return parsed
    if full_name and not (parsed.fields.get("first_name") or parsed.fields.get("last_name")):
        first, _, last = full_name.partition(" ")
        parsed.fields["first_name"] = first[:100]
        if last.strip():
            parsed.fields["last_name"] = last.strip()[:100]
    return parsed


class CsvFile:
    """A CSV export opened for streaming: its encoding, delimiter, header and mapping."""

    def __init__(
        self,
        binary: IO[bytes],
        *,
        encoding: str | None = None,
        column_map: dict[str, str] | None = None,
    ) -> None:
        self.binary = binary
        start = binary.tell()
        sample = binary.read(SAMPLE_BYTES)
        binary.seek(start)
        self._start = start
        if not sample.strip():
            raise UnreadableFile("The file is empty.", field="file")
        self.encoding = encoding or detect_encoding(sample)
        text = sample.decode(self.encoding, errors="replace")
        if "\x00" in text:
            raise UnreadableFile("This is not a CSV file (it contains binary data).", field="file")
        self.delimiter = sniff_delimiter(text.lstrip("\ufeff"))
        self.column_map = column_map

    def rows(self) -> Iterator[ParsedRow]:
        """Every data row, in file order; raises UnicodeDecodeError if the encoding was wrong."""
        self.binary.seek(self._start)
        # newline="" hands line endings (CRLF, and newlines inside quoted cells) to csv.
        stream = io.TextIOWrapper(
            io.BufferedReader(_Unclosable(self.binary)),
            encoding=self.encoding,
            errors="strict",
            newline="",
        )
        lines = (line.lstrip("\ufeff") if i == 0 else line for i, line in enumerate(stream))
        reader = csv.reader(lines, delimiter=self.delimiter, quotechar='"', strict=False)
        try:
            headers = next(reader)
        except StopIteration:
            raise UnreadableFile("The file has no header row.", field="file") from None
        except csv.Error as exc:
            raise UnreadableFile(f"The header row cannot be read: {exc}.", field="file") from None
        headers = [h.strip() for h in headers]
        if not any(headers):
            raise UnreadableFile("The first row (the header) is empty.", field="file")
        self.headers = headers
        self.targets = build_mapping(headers, self.column_map)
        row_no = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise UnreadableFile(
                    f"Row {row_no + 1} cannot be read as CSV: {exc}.", field="file", row=row_no + 1
                ) from None
            row_no += 1
            if not any(c.strip() for c in cells):
                continue  # blank line: not a row of data
            yield parse_row(row_no, cells, headers, self.targets)


class _Unclosable(io.RawIOBase):
    """Lets a TextIOWrapper read a stream it must not close (the caller owns it)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.inner.tell()
