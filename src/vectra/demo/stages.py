"""How the demo reports progress (kept light: the CLI imports it before any domain)."""

from __future__ import annotations


class Stages:
    """Where the demo reports its progress (the CLI draws Rich bars; tests stay quiet)."""

    def start(self, title: str, total: int | None = None) -> None:
        """A stage begins."""

    def advance(self, done: int, total: int | None = None) -> None:
        """Progress inside the current stage."""

    def done(self, summary: str) -> None:
        """The current stage ended; `summary` says what it did."""
