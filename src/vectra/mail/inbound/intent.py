"""Reply intent by multilingual phrase rules (EN/FR/DE/ES); the first stage of the classifier.

The prospect's text is matched as data only: nothing in it is executed or obeyed. Rules are
ordered from the most decisive (an explicit opt-out) to the most general (a question mark).
"""

from __future__ import annotations

import datetime as dt
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
                r"remove (this address|my (details|address|email|data))",
                r"opt me out",
                r"delete my (email|address|details|data)",
                r"(no longer|do not|don't) (want|wish) to receive",
                r"ne (souhaite|veux) plus (recevoir|[êe]tre contact)",
                r"supprimez mon",
                r"arr[êe]tez de m'(envoyer|[ée]crire)",
                r"ne plus m'[ée]crire",
                r"tragen sie mich .{0,30}aus",
                r"keine weiteren (e-?mails|mails|nachrichten|newsletter)",
                r"h[öo]ren sie .{0,20}auf",
                r"entfernen sie mich",
                r"streichen sie mich",
                r"l[öo]schen sie meine",
                r"keine (e-?mails|mails) mehr",
                r"(dar|darme|den|denme|darse|deme) de baja|^\s*baja\b",
                r"no deseo recibir",
                r"dejen? de (enviar|escribir)",
                r"b[óo]rr(en|e)me",
                r"elimin(en|e|ar) mis",
                r"no quiero que me contacten",
                r"never (signed up|asked)|jamais demand[ée]|nie angemeldet|nunca (me )?suscrib",
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
                r"(on|in) (a )?(business trip|parental leave|maternity leave|paternity leave)",
                r"travell?ing until",
                r"en d[ée]placement",
                r"en formation",
                r"cong[ée] maternit",
                r"dienstreise",
                r"elternzeit",
                r"nicht erreichbar",
                r"auf einer messe",
                r"de viaje",
                r"de baja por",
                r"en una conferencia",
                r"(on|upon) my return",
                r"[àa] mon retour",
                r"nach meiner r[üu]ckkehr",
                r"a mi regreso",
                r"cuando vuelva",
                r"de retour le",
                r"wieder im b[üu]ro",
                r"out sick|en arr[êe]t maladie|krankgeschrieben|de baja m[ée]dica",
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
                r"ticket ?(number|nummer|#)|n[úu]mero de ticket|num[ée]ro de ticket",
                r"(mailbox|inbox|address|postfach|adresse|bo[îi]te|buz[óo]n) .{0,40}"
                r"(not monitored|no longer (monitored|accepts)|nicht mehr betreut"
                r"|n'est plus consult|ya no se revisa)",
                r"not monitored",
                r"do not reply to this",
                r"ne pas r[ée]pondre",
                r"nicht auf diese e-?mail",
                r"no responda",
                r"(demande|anfrage|solicitud) .{0,20}(enregistr|eingegangen|registrad)",
                r"(ist|sind) bei uns eingegangen|ist eingegangen",
                r"kein roboter|pas un robot|no es un robot|you are (a )?human",
                r"(generated|g[ée]n[ée]r[ée]|generiert|erzeugt|generado) automati",
                r"automatically generated|has been received|a bien [ée]t[ée] re[çc]u",
                r"wir haben ihre .{0,20}erhalten|hemos recibido",
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
                r"successor|successeur|nachfolger(in)?|sucesora?",
                r"bon interlocuteur|la personne en charge|richtige ansprechpartner"
                r"|contacto correcto",
                r"in kopie|en copie|en copia",
                r"(transmets|leite .{0,30}weiter|reenv[íi]o|forward(ing)?) .{0,30}"
                r"(coll[èe]gue|kollegen?|kollegin|compa[ñn]er[oa]|colleague)",
                r"sprechen sie .{0,20}mit",
                r"hable con",
                r"voyez (plut[ôo]t )?avec",
                r"(best|right) contact",
                r"contactez [A-Z]",
                r"escriba a [A-Z]",
                r"hablar con [A-Z]",
                r"leite .{0,40}weiter",
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
                r"planifions|organisons|calons|pr[ée]voir un (appel|point)|un cr[ée]neau"
                r"|une d[ée]mo|un point (lundi|mardi|mercredi|jeudi|vendredi)",
                r"\btermin|telefonieren|\bcall am\b|gespr[äa]ch (am|mit)|vorf[üu]hrung|\bdemo\b",
                r"\bagend(ar|emos|amos)|reuni[óo]n|llamada|videollamada|reunirnos|demostraci[óo]n"
                r"|hagamos una",
                r"invite|invitation|einladung|invitaci[óo]n|horarios disponibles|cr[ée]neaux",
                r"book (\d+ minutes|(some )?time)",
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
                r"(in|dans|en) (a few|six|\d+|quelques|ein paar|einigen|unos) "
                r"(months|mois|monaten|meses)",
                r"next year|l'an(n[ée]e)? prochaine?|n[äa]chstes jahr|el a[ñn]o que viene",
                r"after (the summer|our)|apr[èe]s (l'[ée]t[ée]|notre)|nach (dem sommer|unserem)"
                r"|despu[ée]s (del verano|de nuestro)",
                r"relancez-moi|recontact|revenez vers|melden sie sich .{0,30}(wieder|noch einmal)"
                r"|vuelva a (contactar|escribir)|retom",
                r"not a priority|pas une priorit|keine priorit|no es (una )?prioridad",
                r"trop t[ôo]t|es pronto|zu fr[üu]h|budget",
                r"(in|dans|en) (sechs|drei|zwei|seis|tres|dos|trois|deux) (monaten|meses|mois)",
                r"check back|try (me )?again|[àa] la rentr[ée]e|(noch ?einmal|nochmal) melden",
                r"volver a escribir|escr[íi]bame de nuevo",
                r"not this year|pas cette ann[ée]e|dieses jahr nicht|este a[ñn]o no",
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
                r"not (a fit|something we need|relevant)|pass on this|we'll pass",
                r"ne correspond pas|pas pour nous|ne donnerons pas suite|sans fa[çc]on|satisfaits",
                r"passt nicht|kein bedarf|verzichten|nicht relevant|zufrieden",
                r"no (es para nosotros|encaja|es relevante)|no nos interesa|contentos con"
                r"|no lo necesitamos|vamos a pasar",
                r"(isn't|not) a (good )?fit|not looking for|ne nous concerne pas|ne cherchons pas",
                r"no es algo que vayamos|nicht das richtige",
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
                r"send (me |us |over )?(a |the |some )?(deck|one-pager|case study|details|info)",
                r"learn more|curious|could be (useful|relevant)|good timing|keen",
                r"plaquette|documentation|pr[ée]sentation|cas client|curieux|nous convenir"
                r"|pertinent",
                r"unterlagen|datenblatt|neugierig|spannend|genauer an",
                r"folleto|presentaci[óo]n|casos de [ée]xito|saber m[áa]s|encajar|abiertos a",
                r"relevant|tell me more|erz[äa]hlen sie mir mehr|cu[ée]nteme m[áa]s",
                r"dites-m'en plus",
                r"r[ée]f[ée]rences",
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
    r"no longer (with|at|works|work at|employed)|left the company|ne fait plus partie"
    r"|a quitt[ée]|ne travaille plus|nicht mehr (bei|im unternehmen)|arbeite nicht mehr"
    r"|ya no (trabaja|trabajo|forma parte)",
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
    """An intent with its confidence; a referral's new contact; an OOO's return date."""

    intent: str
    confidence: float
    contact_name: str | None = None
    contact_email: str | None = None
    return_on: dt.date | None = None


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
