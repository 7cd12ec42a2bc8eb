"""`vectra demo`: load the demo organization, with a Rich progress bar per stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from vectra.demo.stages import Stages
from vectra.errors import VectraError

if TYPE_CHECKING:
    from vectra.demo.pipeline import DemoReport

SINK_PORT = 2525  # `vectra mail sink`'s default


class RichStages(Stages):
    """One line per stage: a bar while it runs, then what it did."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.title = ""

    def start(self, title: str, total: int | None = None) -> None:
        self.title = title
        if not self.progress.live.is_started:
            self.progress.start()
        self.task = self.progress.add_task(title, total=total)

    def advance(self, done: int, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)

    def done(self, summary: str) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.console.print(f"[green]✓[/] {self.title}: {summary}", highlight=False)

    def stop(self) -> None:
        self.progress.stop()


def print_summary(console: Console, report: DemoReport, url: str) -> None:
    funnel = "  ".join(f"{stage} {count}" for stage, count in report.funnel.items())
    console.print(
        f"\n[bold green]Demo loaded in {report.timings.get('total', 0):.0f} s.[/]\n"
        f"  Organization: {report.slug} (a campaign, {report.imported.get('imported')} "
        "prospects, a mailbox on the sink)\n"
        f"  Funnel:       {funnel}\n"
        f"  Mail sink:    {report.sink_received} messages in {report.sink_folder}\n"
        f"                (the mailbox points at {report.sink_host}:{report.sink_port}: run "
        f"`vectra mail sink --port {report.sink_port}` to catch what you approve next)\n"
        f"  Look at it:   {url}\n"
        f"  Sign in:      {report.owner_email} / {report.password}\n"
        "  Again:        `vectra demo --reset` deletes the demo organization and reloads it.",
        highlight=False,
    )


def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo organization first, then reload it.")
    ] = False,
    password: Annotated[
        str | None, typer.Option("--password", help="The demo owner's password (default: new).")
    ] = None,
    sink_port: Annotated[
        int, typer.Option("--sink-port", help="Port of the local SMTP sink (busy: any free one).")
    ] = SINK_PORT,
    sink_folder: Annotated[
        Path | None,
        typer.Option("--sink-folder", help="Where the sink keeps messages (default: data dir)."),
    ] = None,
    leads: Annotated[
        int, typer.Option("--leads", min=20, max=1000, help="How many synthetic prospects.")
    ] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Load a demo organization and run it through the whole pipeline (about a minute)."""
    from vectra.cli import _emit, _fail, _setup, _upgrade, err, open_database
    from vectra.demo.pipeline import free_port, load_demo

    settings = _setup()
    folder = sink_folder or settings.data_dir / "mail-sink"
    port = free_port(sink_port)
    stages = RichStages(err)
    with open_database(settings, as_json=as_json) as database:
        _upgrade(database, as_json=as_json)
        try:
            report = load_demo(
                database,
                sink_folder=folder,
                sink_port=port,
                reset=reset,
                password=password,
                leads_count=leads,
                stages=stages,
            )
        except VectraError as exc:
            stages.stop()
            _fail(exc.message, as_json=as_json, code=exc.code)
        finally:
            stages.stop()
    url = f"{settings.base_url.rstrip('/')}/login"
    if as_json:
        _emit({**report.as_dict(), "url": url})
    print_summary(err, report, url)
