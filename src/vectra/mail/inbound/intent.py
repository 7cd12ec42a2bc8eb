"""Reply intent by multilingual phrase rules (EN/FR/DE/ES); the first stage of the classifier.

The prospect's text is matched as data only: nothing in it is executed or obeyed. Rules are
ordered from the most decisive (an explicit opt-out) to the most general (a question mark).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTENTS = (
    "interested",
    "meeting_request",
    "not_interested",
    "not_now",
    "out_of_office",
    "referral",
    "unsubscribe",
    "question",
    "auto_reply",
)

_RULES: tuple[tuple[str, float, re.Pattern[str]], ...] = tuple(
    (label, confidence, re.compile("|".join(phrases), re.IGNORECASE))
    for label, confidence, phrases in (
        (
            "unsubscribe",
            0.95,
            [
                r"\bunsubscribe\b",
                r"remove me",
                r"take me off",
                r"stop (emailing|contacting|sending)",
                r"do not (email|contact) me",
                r"don't (email|contact) me",
                r"opt[- ]?out",
                r"d[ée]sinscri",
                r"d[ée]sabonn",
                r"retirez[- ]moi",
                r"ne plus (me )?(contacter|recevoir)",
                r"abmelden",
                r"austragen",
                r"nicht mehr (kontaktieren|anschreiben|schreiben)",
                r"darse de baja|dar de baja|darme de baja",
                r"no me (contacte|escriba)",
                r"elim[ií]n(e|a)(me)? de (su|la|tu) lista",
            ],
        ),
        (
            "out_of_office",
            0.9,
            [
                r"out of (the )?office",
                r"on (annual )?(leave|vacation|holiday)",
                r"\bOOO\b",
                r"away from (the office|my desk)",
                r"limited access to (my )?e-?mail",
                r"absente?\b",
                r"en cong[ée]s?",
                r"en vacances",
                r"hors du bureau",
                r"abwesend",
                r"im urlaub",
                r"au[ßs]er haus",
                r"nicht im b[üu]ro",
                r"fuera de la oficina",
                r"de vacaciones",
                r"ausente",
            ],
        ),
        (
            "auto_reply",
            0.85,
            [
                r"(this is an? )?auto(matic|mated)?[- ]?(reply|response|generated)",
                r"ticket (number|#|id)",
                r"we have received your (message|request|email)",
                r"(your|this) (message|request) has been received",
                r"verify (that )?you are (a )?human",
                r"challenge[- ]response",
                r"r[ée]ponse automatique",
                r"nous avons bien re[çc]u",
                r"automatische antwort",
                r"wir haben ihre (nachricht|anfrage) erhalten",
                r"respuesta autom[áa]tica",
                r"hemos recibido su (mensaje|solicitud)",
            ],
        ),
        (
            "referral",
            0.85,
            [
                r"(reach out|contact|speak|talk|get in touch|write) (to|with) .{0,60}@",
                r"(better|right) (person|contact) (is|would be|for this)",
                r"(cc'?d|copied|looping in|forwarding (this|you) to)",
                r"s'adresser [àa]|contactez plut[ôo]t|la bonne personne",
                r"wenden sie sich (bitte )?an|ansprechpartner(in)? (ist|wäre)",
                r"zust[äa]ndig (ist|sind)",
                r"p[óo]ngase en contacto con|la persona (adecuada|indicada)|contacte (a|con)",
            ],
        ),
        (
            "meeting_request",
            0.85,
            [
                r"(book|schedule|set up|arrange) (a |some )?(call|meeting|demo|time)",
                r"(are|is) you (free|available)",
                r"how about (monday|tuesday|wednesday|thursday|friday|next)",
                r"send (me )?(a |an )?(calendar )?invite",
                r"calendly",
                r"(let's|lets) (talk|meet|chat|hop on)",
                r"\b(call|meeting|demo) (on|at|next)\b",
                r"(rendez-vous|r[ée]union|cr[ée]neau|appel) "
                r"(mardi|lundi|jeudi|vendredi|mercredi|la semaine)",
                r"planifier (un|une)",
                r"disponible (mardi|lundi|jeudi|vendredi|mercredi|demain)",
                r"termin (vereinbaren|ausmachen)|treffen wir uns|h[äa]tten sie .{0,30}zeit",
                r"agendar (una|un)|reuni[óo]n (el|la pr[óo]xima)|llamada (el|ma[ñn]ana)",
            ],
        ),
        (
            "not_now",
            0.8,
            [
                r"not (right )?now",
                r"(next|later this) (quarter|year|month)",
                r"circle back",
                r"reach out (again )?(in|next)",
                r"(bad|not a good) timing",
                r"maybe later",
                r"pas (pour le )?moment",
                r"plus tard",
                r"trimestre prochain",
                r"recontactez",
                r"nicht (im moment|jetzt|zum jetzigen zeitpunkt)",
                r"sp[äa]ter",
                r"n[äa]chstes (quartal|jahr)",
                r"ahora no",
                r"m[áa]s adelante",
                r"pr[óo]ximo (trimestre|a[ñn]o)",
            ],
        ),
        (
            "not_interested",
            0.85,
            [
                r"not interested",
                r"no (thanks|thank you)",
                r"we('re| are) (all )?(set|good)",
                r"already (have|use|using|work with)",
                r"no need",
                r"please don't",
                r"pas int[ée]ress[ée]",
                r"non merci",
                r"nous avons d[ée]j[àa]",
                r"kein interesse",
                r"nein danke",
                r"haben bereits",
                r"no (estamos|estoy) interesad",
                r"no gracias",
                r"ya (tenemos|usamos)",
            ],
        ),
        (
            "interested",
            0.8,
            [
                r"(sounds|looks) (interesting|good|great)",
                r"(i am|i'm|we are|we're) interested",
                r"tell me more",
                r"send (me |us )?(more )?(info|details|pricing)",
                r"keen to",
                r"int[ée]ress[ée]",
                r"en savoir plus",
                r"envoyez(-moi)? (plus|des)",
                r"interessiert",
                r"klingt (gut|interessant)",
                r"mehr (infos|informationen)",
                r"me interesa",
                r"nos interesa",
                r"suena (bien|interesante)",
                r"m[áa]s informaci[óo]n",
            ],
        ),
        (
            "question",
            0.7,
            [
                r"\?",
                r"^(how|what|which|who|why|can|does|do|is) ",
                r"\b(comment|combien|quel|quelle|pourquoi)\b",
                r"\b(wie|was|welche|warum|kostet)\b",
                r"\b(c[óo]mo|cu[áa]nto|qu[ée]|por qu[ée])\b",
            ],
        ),
    )
)
_NO_LONGER_HERE = re.compile(
    r"no longer (with|at|works)|left the company|ne fait plus partie|a quitt[ée]"
    r"|nicht mehr (bei|im unternehmen)|ya no (trabaja|forma parte)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NAMED_CONTACT = re.compile(
    r"(?:contact|reach out to|write to|speak (?:to|with)|contactez|wenden sie sich an"
    r"|p[óo]ngase en contacto con|contacte con|colleague|coll[èe]gue|kollege|kollegin"
    r"|compa[ñn]er[oa])"
    r"\s*:?\s*([A-ZÀ-Ý][\w'À-ÿ-]+(?:\s+[A-ZÀ-Ý][\w'À-ÿ-]+){0,2})",
)


@dataclass(frozen=True)
class IntentGuess:
    intent: str
    confidence: float
    contact_name: str | None = None
    contact_email: str | None = None


def referral_contact(text: str, *, own: set[str] | None = None) -> tuple[str | None, str | None]:
    """The new contact a referral names: (name, email); either may be missing."""
    own = {a.lower() for a in (own or set())}
    emails = [e for e in _EMAIL.findall(text) if e.lower() not in own]
    named = _NAMED_CONTACT.search(text)
    return (named.group(1).strip() if named else None, emails[0] if emails else None)


def classify_by_rules(text: str) -> IntentGuess | None:
    """The first rule that fires, or None when no phrase is decisive."""
    if not text.strip():
        return None
    if _NO_LONGER_HERE.search(text):
        name, email = referral_contact(text)
        if email or name:
            return IntentGuess("referral", 0.9, name, email)
        # "No longer with the company" naming no one is an automatic notice, not a referral.
        return IntentGuess("auto_reply", 0.75)
    for label, confidence, pattern in _RULES:
        if pattern.search(text):
            if label == "referral":
                name, email = referral_contact(text)
                return IntentGuess(label, confidence, name, email)
            return IntentGuess(label, confidence)
    return None
