"""`vectra keys`: re-encrypt stored secrets under the current secret key (after a rotation).

Rotation: put the new key in VECTRA_SECRET_KEY and the old one in VECTRA_SECRET_KEY_PREVIOUS
(or `<data_dir>/secret.key.previous`), run `vectra keys rotate`, then drop the old key.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

app = typer.Typer(help="Secret keys and the credential vault.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("rotate")
def rotate(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Re-encrypt every stored secret (mailbox passwords, DKIM keys, integration credentials)."""
    from vectra.cli import open_database
    from vectra.integrations.service import rotate_credentials
    from vectra.integrations.vault import rotate_stored_secrets
    from vectra.settings import get_settings

    with open_database(get_settings(), as_json=as_json) as database:  # noqa: SIM117
        with (
            Progress(
                TextColumn("re-encrypting secrets"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=as_json,
            ) as progress,  # fmt: skip
            database.system_session() as session,
        ):
            task = progress.add_task("rotate", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            rotated = rotate_stored_secrets(session, progress=advance)
            rotated += rotate_credentials(session)
    if as_json:
        print(json.dumps({"rotated": rotated}))
    else:
        err.print(f"{rotated} secrets re-encrypted under the current key")
