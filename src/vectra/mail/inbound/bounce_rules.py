"""Why a delivery failed: reason families from diagnostic text, then from the status code.

The three categories drive different effects (see issue 8): `hard` suppresses the address,
`soft` retries, `policy` flags the sending mailbox. Status codes alone are unreliable:
servers answer 5.0.0 / 5.5.0 / 5.7.1 for almost anything and 4.x.x for policy refusals, so
the server's own words decide when they name a reason, and the code decides otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class BounceType(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    POLICY = "policy"


@dataclass(frozen=True)
class Reason:
    name: str
    category: BounceType
    pattern: re.Pattern[str]


def _r(name: str, category: BounceType, *phrases: str) -> Reason:
    return Reason(name, category, re.compile("|".join(phrases), re.IGNORECASE))


H, S, P = BounceType.HARD, BounceType.SOFT, BounceType.POLICY

# A refusal that gives no reason is the receiver's policy, not a dead address; but it yields
# to a specific status code ("550 5.1.1 Address rejected" is still an unknown address).
LAST_RESORT = _r("rejected", P, r"\brejected\b", r"\brefused\b", r"\bdenied\b", r"not allowed")

# Order matters: the first family whose phrases appear wins. Sender-side refusals come first
# because their wording ("sender domain does not exist") overlaps the recipient-side ones.
REASONS: tuple[Reason, ...] = (
    # Office 365 directory-based edge blocking: the recipient does not exist in the tenant.
    _r("userunknown", H, r"5\.4\.1\b.{0,120}access denied"),
    # Tencent and others refuse by connection rate, naming the IP as "blocked" in passing.
    _r("toomanyconn", S, r"connection frequency", r"too many connections"),
    _r(
        "norelaying",
        P,
        r"relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)",
        r"not permitted to relay",
        r"unable to relay",
        r"we do not relay",
        r"no relaying",
        r"relay not permitted",
        r"not (a )?(local|allowed) (domain|recipient) .{0,20}relay",
        r"relaying (mail )?(to .{0,40})?(is )?(denied|prohibited|not allowed)",
    ),
    _r(
        "requireptr",
        P,
        r"\bPTR\b",
        r"reverse (dns|lookup|hostname|name)",
        r"\brdns\b",
        r"cannot find your hostname",
        r"no (valid )?(reverse|hostname) ",
        r"ip name lookup failed",
        r"unverif(y|i)able (sending )?ip",
        r"(client|host) (host )?name (is )?(unknown|not found|mismatch)",
        r"does not resolve to (the )?(address|ip)",
        r"resolve your (ip )?address",
    ),
    _r(
        "authfailure",
        P,
        r"\bspf\b",
        r"\bdkim\b",
        r"\bdmarc\b",
        r"sender policy framework",
        r"domainkeys",
        r"not (designated|authorized) to send",
        r"authentication (check )?fail",
        r"unauthenticated (email|mail|sender)",
    ),
    _r(
        "virusdetected",
        P,
        r"virus",
        r"malware",
        r"infected",
        r"\btrojan\b",
    ),
    _r(
        "spamdetected",
        P,
        r"\bspam",
        r"\bjunk mail",
        r"unsolicited",
        r"bulk e?mail",
        r"message (was )?(classified|identified|detected|considered) as (spam|junk|bulk)",
        r"content (was )?(rejected|filtered|blocked)",
        r"suspicious (content|url|link)",
        r"high probability of being",
    ),
    _r(
        "mesgtoobig",
        P,
        r"message (is )?too (large|big)",
        r"message (size|length) exceeds",
        r"exceeds? (the )?(maximum )?(message )?size",
        r"size (limit|exceeds)",
        r"message size .{0,30}(exceeds|too)",
        r"message file too big",
        r"mail too large",
        r"too big for (this|the) system",
    ),
    _r(
        "securityerror",
        P,
        r"(tls|starttls|encryption|ssl) (is )?(required|needed|must)",
        r"must issue a starttls",
        r"authentication (is )?required",
        r"must (be )?authenticat",
        r"\bsmtp auth",
        r"insecure",
        r"certificate",
    ),
    _r(
        "badreputation",
        P,
        r"reputation",
        r"sender score",
        r"user complaints",
        r"low sender",
    ),
    _r(
        "blocked",
        P,
        r"black ?list",
        r"block ?list",
        r"deny ?list",
        r"\bblocked\b",
        r"\bblock(ed)? (by|using|because|for)",
        r"\brbl\b",
        r"\bdnsbl\b",
        r"spamhaus",
        r"spamcop",
        r"barracuda",
        r"sorbs",
        r"(?<!not )listed (in|on|at|by)",
        r"client host .{0,60}rejected",
        r"(connection|access) (refused|denied|rejected) (by|due to|for)",
        r"access denied",
        r"not allowed to (connect|send)",
        r"banned",
        r"your (ip|host|server|network)( address)? .{0,40}(rejected|refused|not allowed|denied)",
        r"(ip|host) (address )?(is |has been )?(rejected|refused|denied)",
        r"refused to talk",
        r"not accepting connections",
        r"network not allowed",
        r"dynamic (ip|address|pool)",
        r"residential",
        r"\bdialup\b|\bdial-up\b",
        r"poor reputation",
        r"service unavailable; client",
        r"sender ip",
        r"connection (was )?(dropped|rejected) .{0,40}(policy|blocked)",
    ),
    _r(
        "policyviolation",
        P,
        r"policy (violation|rejection|reasons|restrictions)",
        r"violat(es|ion of) .{0,40}policy",
        r"protocol violation",
        r"(local|site|security|organizational|content|mail) policy",
        r"prohibited (by|due to)",
        r"not (accepted|permitted|allowed) (by|due to) .{0,30}policy",
        r"does not meet .{0,20}(policy|requirements)",
    ),
    _r(
        "notcompliantrfc",
        P,
        r"\brfc ?(2822|5322|822|5321)\b",
        r"not (rfc|standards?)[- ]compliant",
        r"(duplicate|multiple) .{0,30}headers?",
        r"message (header|headers) (is |are )?(invalid|malformed|missing)",
    ),
    _r(
        "contenterror",
        P,
        r"content (error|rejected)",
        r"\bmime\b.{0,40}(invalid|error|malformed|rejected)",
        r"(invalid|malformed|bad) (mime|header|message|content)",
        r"header(s)? (error|too large|too long)",
        r"message content",
        r"attachment",
        r"8-?bit",
    ),
    _r(
        "rejected",
        P,
        r"sender (address )?(rejected|denied|refused|blocked|verify failed|unknown|not allowed)",
        r"(mail from|envelope sender|return[- ]path|sender) .{0,60}(rejected|refused|denied)",
        r"(from|sender) address .{0,40}(invalid|not (allowed|accepted))",
        r"domain of sender address .{0,80}(does not exist|not found|unknown)",
        r"sender domain .{0,40}(does not exist|not found|unknown|not resolv)",
        r"verification failed for",
        r"sender verif",
        r"unroutable sender",
        r"not (allowed|authorized|permitted) to (post|send|mail)",
        r"(have|has) no permission to post",
        r"(do not|don't) have permission to post",
        r"may not have permission to post",
        r"you are not authorized",
        r"recipient .{0,30}refused",
        r"message rejected",
        r"email (was )?rejected",
        r"not accepting mail from",
        r"refused by recipient",
        r"rejected for (the )?(following )?(policy )?reasons?",
        r"has been rejected",
    ),
    _r(
        "filtered",
        P,
        r"\bfilter(ed|ing)?\b",
        r"user reject",
        r"recipient .{0,30}(does not|doesn't) (accept|want)",
        r"is not accepting (e-?)?mail from",
        r"delivery not authorized",
        r"\bsieve\b",
        r"mail rule",
    ),
    _r(
        "hostunknown",
        H,
        r"host (or domain name )?(unknown|not found)",
        r"unknown (host|domain)",
        r"domain (name )?(not found|does not exist|doesn't exist|unknown|not exist)",
        r"no such domain",
        r"name service error",
        r"unrout(e)?able (mail )?domain",
        r"nxdomain",
        r"non-?existent (domain|host)",
        r"dns (error|lookup fail)",
        r"host \S+ not found",
        r"domain (is )?not reachable",
        r"illegal host/domain",
        r"(domain|host) .{0,60}(has no|no) (mx|dns|address)",
        r"mx .{0,20}(point to|points to) non-existent",
        r"couldn't find any host",
        r"could not find (a )?(mail exchanger|host)",
        r"no mail ?host",
        r"recipient domain .{0,30}(invalid|not found)",
        r"domain is not (valid|registered)",
        # a bare host name (not an address) said not to exist
        r"(?<![@\w.-])[a-z0-9-]+(\.[a-z0-9-]+)+\.?\s+(does not exist|not found)",
    ),
    _r(
        "notaccept",
        H,
        r"does not accept (e-?)?mail",
        r"accepts? no mail",
        r"null mx",
        r"not accepting (any )?(e-?)?mail",
        r"no mx (record|host|found)",
        r"not accepting network messages",
    ),
    _r(
        "hasmoved",
        H,
        r"has moved",
        r"address (has )?changed",
        r"is no longer (valid|in use|available|at this)",
        r"no longer (active|in use)",
        r"new (e-?mail )?address",
    ),
    _r(
        "mailboxfull",
        S,
        r"(mailbox|mail box|inbox|mail ?folder|mail ?store|account|disk|storage)( is)? (is )?"
        r"(full|over ?quota)",
        r"over ?quota",
        r"quota (exceeded|exceed|full|limit)",
        r"exceeded (storage|(the )?quota|.{0,20}storage allocation)",
        r"insufficient (disk |system )?(space|storage)",
        r"mailbox (size )?(limit )?(exceeded|exceeds)",
        r"(not|no) enough (disk |storage )?space",
        r"\bmailfull\b|\bmbox ?full\b|\bmailbox_full\b",
        r"too many messages in (this|the) mailbox",
        r"would exceed .{0,20}(quota|storage)",
        r"exceeded (his|her|their|its) (storage|quota)",
        r"容量(を|が)?(超過|オーバー)|いっぱい",
    ),
    _r(
        "suspend",
        S,
        r"suspend",
        r"(account|mailbox|user|address) (has been |is )?"
        r"(disabled|deactivated|inactive|locked|blocked|frozen|not active|expired)",
        r"disabled (account|mailbox|recipient|user)",
        r"inactive (account|mailbox|recipient|user)",
        r"temporarily (disabled|deactivated|unavailable for)",
        r"temporar(il)?y locked",
        r"account .{0,40}is (inactive|disabled|suspended|locked)",
    ),
    _r(
        "userunknown",
        H,
        r"user(name)? (is )?(unknown|not found|not known|doesn't exist|does not exist)",
        r"unknown (user|recipient|mailbox|address|local[- ]part|local user|account|alias)",
        r"no such (user|mailbox|recipient|address|account|person|local user|alias)",
        r"(mailbox|recipient|address|account|addressee|alias|e-?mail address)( \S+)? (is )?"
        r"(unknown|not found|unavailable|does not exist|doesn't exist|not exist|invalid|not valid)",
        r"(mailbox|recipient|user|address) (name )?(is )?not (valid|recognized|known|listed)",
        r"invalid (recipient|mailbox|user|address|e-?mail)",
        r"(recipient|user|address|mailbox) not (found|known|present|in directory)",
        r"no mailbox (here|by that name|found)",
        r"not (a )?(valid|known) (user|mailbox|recipient|address)",
        r"bad destination (mailbox|address|system)",
        r"recipient ?not ?found",
        r"undeliverable address",
        r"unrout(e)?able address",
        r"(doesn't|does not) have an? .{0,40} account",
        r"email account (that )?you tried to reach does not exist",
        r"no account by that name",
        r"invalid .{0,20}userid",
        r"addressee unknown",
        r"mailbox not available",
        r"not listed in .{0,40}(directory|address book|table)",
        r"is not a valid (user|mailbox|address)",
        r"(could not|couldn't) be found",
        r"(this|that) (user|address|mailbox) (does not|doesn't) exist",
        r"no (valid )?recipients?",
        r"dd this user",
        r"user .{0,40} not (exist|found)",
        # Japanese servers (Domino, Notes, carriers): "not found", "not in the directory"
        r"見つかりません|存在しません|宛先不明|(ディレクトリ|リスト)に(は)?ありません",
    ),
    _r(
        "expired",
        S,
        r"expired",
        r"retry time(out)? (not reached|exceeded)",
        r"(gave|giving) up",
        r"too long",
        r"(could not|couldn't|was not|cannot|can't|unable to) (be )?deliver(ed)? .{0,80}"
        r"(for|within|in|after) (the )?(last |past )?\d+ (day|hour)",
        r"(for|within|in|after) (the )?(last |past )?\d+ (days|hours).{0,60}(deliver|retry|tried)",
        r"delivery time ?out",
        r"timeout exceeded",
        r"message (is )?(delayed|too old)",
        r"time(d)? ?out",
        r"did not (accept|respond)",
        r"has been delayed",
        r"retry (period|limit)",
    ),
    _r(
        "toomanyconn",
        S,
        r"too many (connections|concurrent|simultaneous)",
        r"frequency limit",
        r"connection (limit|rate)",
        r"too many (recipients|rcpt)",
    ),
    _r(
        "speeding",
        S,
        r"rate limit",
        r"too many (messages|mails|emails)",
        r"(sending|arriving) too (fast|quickly)",
        r"throttl",
        r"try (again )?later",
        r"slow down",
        r"temporarily (deferred|rejected|blocked)",
    ),
    _r(
        "exceedlimit",
        S,
        r"exceeds? (the )?(limit|recipient)",
    ),
    _r(
        "networkerror",
        S,
        r"network (error|is unreachable)",
        r"(connection|connect) (refused|reset|lost|timed out)",
        r"no route to host",
        r"(mail|routing) loop",
        r"too many hops",
        r"loops back to myself",
        r"unable to connect",
        r"could not connect",
        r"lost connection",
    ),
    _r(
        "systemerror",
        S,
        r"system (error|failure|not accepting)",
        r"(local|internal|server) (configuration )?error",
        r"configuration error",
        r"temporary (local )?(problem|failure|error)",
        r"service (temporarily )?(unavailable|not available)",
        r"resources? (temporarily )?unavailable",
        r"i/o error",
        r"write error",
    ),
    _r(
        "mailererror",
        S,
        r"mailer error",
        r"program .{0,30}(exited|failed|error)",
        r"(command|procmail|deliver(y)? agent) .{0,40}(failed|error|died|exited)",
        r"unknown mailer",
        r"exit (code|status)",
    ),
    LAST_RESORT,
    _r(
        "syntaxerror",
        S,
        r"syntax error",
        r"command (unrecognized|not recognized)",
        r"bad sequence",
    ),
)

_BY_NAME = {reason.name: reason for reason in REASONS}

# RFC 3463 subject/detail -> reason, used when the text names none.
_STATUS_REASONS: dict[str, str] = {
    "1.0": "userunknown",
    "1.1": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "userunknown",
    "1.5": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.9": "userunknown",
    "1.10": "notaccept",
    "2.0": "suspend",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "mesgtoobig",
    "2.4": "mailererror",
    "3.0": "systemerror",
    "3.1": "mailboxfull",
    "3.2": "systemerror",
    "3.3": "mailererror",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.0": "networkerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "systemerror",
    "4.4": "hostunknown",
    "4.5": "networkerror",
    "4.6": "networkerror",
    "4.7": "expired",
    "5.0": "syntaxerror",
    "5.1": "syntaxerror",
    "5.2": "syntaxerror",
    "5.3": "toomanyconn",
    "5.4": "syntaxerror",
    "5.5": "syntaxerror",
    "6.0": "contenterror",
    "6.1": "contenterror",
    "6.2": "contenterror",
    "6.3": "contenterror",
    "6.4": "contenterror",
    "6.5": "contenterror",
    "7.0": "blocked",
    "7.1": "rejected",
    "7.2": "rejected",
    "7.3": "securityerror",
    "7.4": "securityerror",
    "7.5": "securityerror",
    "7.6": "securityerror",
    "7.7": "securityerror",
    "7.8": "securityerror",
    "7.9": "securityerror",
    "7.10": "securityerror",
    "7.11": "securityerror",
    "7.12": "securityerror",
    "7.13": "suspend",
    "7.14": "policyviolation",
    "7.15": "securityerror",
    "7.16": "securityerror",
    "7.17": "suspend",
    "7.18": "suspend",
    "7.19": "policyviolation",
    "7.20": "authfailure",
    "7.21": "authfailure",
    "7.22": "authfailure",
    "7.23": "authfailure",
    "7.24": "authfailure",
    "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "notaccept",
    "7.28": "spamdetected",
    "7.29": "authfailure",
    "7.30": "authfailure",
}

# Codes that servers use as "something went wrong": their subject says nothing reliable.
GENERIC_DETAILS = frozenset({"0.0", "5.0", "5.1", "5.2", "5.3", "5.4", "5.5", "7.0", "7.1", "3.0"})


@dataclass(frozen=True)
class Verdict:
    reason: str
    category: BounceType


def reason_from_text(text: str) -> Reason | None:
    """The first reason family whose phrases appear in the server's words."""
    if not text:
        return None
    for reason in REASONS:
        if reason.pattern.search(text):
            return reason
    return None


def reason_from_status(status: str) -> Reason | None:
    """The reason RFC 3463 attaches to a status code's subject and detail."""
    _, _, detail = status.partition(".")
    name = _STATUS_REASONS.get(detail)
    return _BY_NAME.get(name) if name else None


def classify(status: str | None, texts: list[str], *, smtp_code: str | None = None) -> Verdict:
    """Combine the status code with the diagnostic texts (most specific text first)."""
    by_status = reason_from_status(status) if status else None
    generic = status is None or status.split(".", 1)[1] in GENERIC_DETAILS
    for text in texts:
        found = reason_from_text(text)
        if found is LAST_RESORT and by_status is not None and not generic:
            return Verdict(by_status.name, by_status.category)
        if found is not None:
            return Verdict(found.name, found.category)
    if by_status is not None:
        return Verdict(by_status.name, by_status.category)
    klass = (status or smtp_code or "5")[0]
    if klass == "4":
        return Verdict("undefined", BounceType.SOFT)
    return Verdict("undefined", BounceType.HARD if smtp_code == "550" else BounceType.SOFT)
