"""The day an out-of-office sender is back, from EN/FR/DE/ES date phrases.

"until 17 March" / "jusqu'au 17 mars" / "bis 17. März" / "hasta el 17 de marzo" name the last
day away; "back on" / "de retour le" / "ab dem" / "vuelvo el" name the day back. Inclusive
markers ("inclus", "einschließlich", "inclusive") push "until" one day on. Years left out are
the next occurrence on or after the day the message was received.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
    # fr
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # de
    "januar": 1, "februar": 2, "marz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    "jänner": 1, "janner": 1,
    # es
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}  # fmt: skip

_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|\.|º)?"
_YEAR = r"(?P<year>\d{4})"
_DATE_FORMS = (
    re.compile(rf"\b{_DAY}\s*(?:de\s+)?{_MONTH}(?:\s*(?:de\s+)?,?\s*{_YEAR})?", re.I),
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:\s*,?\s*{_YEAR})?", re.I),
    re.compile(r"\b(?P<day>[0-3]?\d)[./](?P<month>[01]?\d)(?:[./](?P<year>\d{2,4}))?\b"),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
)
_UNTIL = re.compile(
    r"\b(until|till|through|to|jusqu'?\s*(au|a|le)|au|bis( zum| einschlie(ss|ß)lich)?|hasta( el)?"
    r"|al)\b",
    re.I,
)
_BACK = re.compile(
    r"\b(back|return|returning|retour|reviens|ab( dem)?|zur[üu]ck|wieder|vuelvo|regreso|regresar"
    r"|de vuelta)\b",
    re.I,
)
_INCLUSIVE = re.compile(r"\b(inclus|inclusive|einschlie(ss|ß)lich|incluido)\b", re.I)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _to_date(found: re.Match[str], received: dt.date) -> dt.date | None:
    month_raw = found.group("month").lower().rstrip(".")
    month = int(month_raw) if month_raw.isdigit() else MONTHS.get(month_raw)
    try:
        day = int(found.group("day"))
    except (TypeError, ValueError):
        return None
    year_raw = found.group("year")
    if not month or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if year_raw:
        year = int(year_raw) + (2000 if len(year_raw) == 2 else 0)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for year in (received.year, received.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= received - dt.timedelta(days=1):
            return candidate
    return None


def return_date(text: str, *, received: dt.date | dt.datetime | None = None) -> dt.date | None:
    """The first day back at work that the text states, or None when it names no date."""
    today = received.date() if isinstance(received, dt.datetime) else received or dt.date.today()
    folded = _fold(text)
    best: tuple[int, dt.date, bool] | None = None
    for form in _DATE_FORMS:
        for found in form.finditer(folded):
            day = _to_date(found, today)
            if day is None:
                continue
            before = folded[max(0, found.start() - 40) : found.start()]
            after = folded[found.end() : found.end() + 25]
            until = bool(_UNTIL.search(before)) and not _BACK.search(before)
            # A range "1 to 15 July": the end of it counts, so prefer the latest position.
            if best is None or found.start() > best[0]:
                best = (found.start(), day, until and bool(_INCLUSIVE.search(before + after)))
    if best is None:
        return None
    _, day, inclusive_until = best
    return day + dt.timedelta(days=1) if inclusive_until else day
