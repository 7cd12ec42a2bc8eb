"""Rendering templates into drafts: a Jinja2 sandbox that never lets a hole or an escape through.

Templates only ever see plain dicts and strings (never ORM objects), in a
`SandboxedEnvironment`, so `{{ ''.__class__ }}` and friends are refused. A variable that is
missing (absent, None or empty) renders as nothing and is *recorded*: the draft gets a
blocking `missing_variable` flag and cannot be approved until a person fixes it, so no
message goes out as "Hi ,". `| default(...)` works as usual for optional fields.
The HTML part is rendered by a second, autoescaping environment from the same source.
"""

from __future__ import annotations

import contextvars
import html
import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup

from vectra.errors import InvalidInput

_missing: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "vectra_template_missing", default=None
)


class Vars(dict[str, Any]):
    """A template namespace that knows its own name, so a missing key is reported in full."""

    def __init__(self, path: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        # Underscored: the sandbox refuses it, so `{{ lead.path }}` still means the key.
        self._vpath = path


class RecordingUndefined(ChainableUndefined):
    """Renders as "" but records its name; an unsafe attribute (sandbox) still raises."""

    __slots__ = ()

    def _full_name(self) -> str:
        owner = self._undefined_obj
        name = self._undefined_name or "?"
        if isinstance(owner, Vars):
            return f"{owner._vpath}.{name}"
        return name

    def __str__(self) -> str:
        if self._undefined_exception is SecurityError:
            self._fail_with_undefined_error()
        recorded = _missing.get()
        if recorded is not None:
            recorded.append(self._full_name())
        return ""

    def __html__(self) -> str:
        return str(self)


def _environment(*, autoescape: bool) -> SandboxedEnvironment:
    # Immutable: a template may not change the shared context (`lead.pop(...)`, `list.append`).
    env = ImmutableSandboxedEnvironment(
        undefined=RecordingUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


TEXT_ENV = _environment(autoescape=False)
HTML_ENV = _environment(autoescape=True)


def compile_check(source: str) -> None:
    """Raise ValueError for a template that does not parse or reaches for `_private` names."""
    try:
        tree = TEXT_ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        name = getattr(node, "attr", None) or getattr(node, "name", None)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and name.startswith("_"):
            raise ValueError(f"templates may not use private names ('{name}')")


@dataclass
class Rendered:
    """A rendered template and the variables it needed but did not have."""

    text: str
    missing: list[str] = field(default_factory=list)


def _render(env: SandboxedEnvironment, source: str, context: dict[str, Any]) -> Rendered:
    recorded: list[str] = []
    token = _missing.set(recorded)
    try:
        text = env.from_string(source).render(context)
    except SecurityError as exc:
        raise InvalidInput(f"The template is not allowed: {exc}", field="email_template") from None
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            f"Template syntax error: {exc.message}", field="email_template"
        ) from None
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # A template that fails for this lead (`{{ 1 / 0 }}`, a bad filter argument).
        raise InvalidInput(f"The template failed: {exc}", field="email_template") from None
    finally:
        _missing.reset(token)
    return Rendered(text=text, missing=sorted(set(recorded)))


def render_text(source: str, context: dict[str, Any]) -> Rendered:
    """Render a subject or plain-text body; missing variables are recorded, not guessed."""
    rendered = _render(TEXT_ENV, source, context)
    rendered.text = rendered.text.strip()
    return rendered


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def render_html(source: str, context: dict[str, Any]) -> Rendered:
    """Render the HTML part: values escaped, paragraphs on blank lines, bare URLs as links."""
    rendered = _render(HTML_ENV, source, context)
    # The autoescaping environment already escaped every value: the text is safe HTML.
    safe = Markup(rendered.text.strip())  # noqa: S704
    return Rendered(text=text_to_html(safe), missing=rendered.missing)


def text_to_html(escaped: Markup | str) -> str:
    """Paragraphs and links for text that is already HTML-safe (escape plain text first)."""
    paragraphs = re.split(r"\n\s*\n", str(escaped))
    out = []
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', paragraph)
        out.append("<p>" + linked.strip().replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    # None and "" are holes: leave them out so they count as missing and `default()` applies.
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


def _namespace(path: str, values: dict[str, Any]) -> Vars:
    """Nested `Vars` all the way down, so `enrichment.funding.stage` is reported in full."""
    return Vars(
        path,
        {
            k: _namespace(f"{path}.{k}", v) if isinstance(v, dict) else v
            for k, v in _present(values).items()
        },
    )


def _plain(value: Any) -> Any:
    """A JSON-like copy (dicts, lists, scalars) so nothing else reaches the sandbox."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def build_context(
    *,
    lead: dict[str, Any],
    enrichment: dict[str, Any],
    sender: dict[str, Any],
    organization_name: str,
    opening_line: str | None,
) -> dict[str, Any]:
    """The variables a template may use: lead, company, enrichment, sender, opening_line."""
    enrichment = _plain(enrichment or {})
    company = {
        "name": lead.get("company_name"),
        "size": lead.get("company_size"),
        "domain": enrichment.get("company_domain"),
        "industry": enrichment.get("industry"),
        "country": enrichment.get("country"),
        "city": enrichment.get("city"),
        "employees": enrichment.get("employees"),
    }
    first, last = lead.get("first_name"), lead.get("last_name")
    lead_vars = dict(lead, full_name=" ".join(p for p in (first, last) if p) or None)
    sender_vars = dict(sender)
    sender_vars.setdefault("company", organization_name)
    return {
        "lead": _namespace("lead", _plain(lead_vars)),
        "company": _namespace("company", company),
        "enrichment": _namespace("enrichment", enrichment),
        "sender": _namespace("sender", _plain(sender_vars)),
        "opening_line": opening_line or None,
    }


def footer_text(postal_address: str | None, unsubscribe_link: str) -> str:
    """The plain-text footer every message carries (CAN-SPAM: address and a way out)."""
    lines = ["--"]
    if postal_address:
        lines.append(postal_address.strip())
    lines.append(f"Unsubscribe: {unsubscribe_link}")
    return "\n".join(lines)


def footer_html(postal_address: str | None, unsubscribe_link: str) -> str:
    address = html.escape(postal_address.strip()).replace("\n", "<br>") if postal_address else ""
    link = html.escape(unsubscribe_link, quote=True)
    parts = [
        '<hr style="border:none;border-top:1px solid #ddd">',
        '<p style="color:#777;font-size:12px">',
    ]
    if address:
        parts.append(address + "<br>")
    parts.append(f'<a href="{link}">Unsubscribe</a></p>')
    return "".join(parts)
