"""A data directory the embedded server cannot start from gets an error that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from vectra.db.embedded import start_embedded_server
from vectra.db.errors import DatabaseSetupError


def test_an_unusable_data_directory_says_why_and_what_to_do(tmp_path: Path) -> None:
    # A data directory of another PostgreSQL major version (or of another program): pg_ctl
    # refuses it before any server process starts.
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("9\n")
    (pgdata / "postgresql.conf").write_text("")
    pgdata.chmod(0o777)  # the server runs as its own OS user when the tests run as root
    with pytest.raises(DatabaseSetupError) as raised:
        start_embedded_server(tmp_path)
    message = str(raised.value)
    assert f"did not start in {pgdata}" in message
    assert "VECTRA_DATA_DIR" in message and f"mv {tmp_path} {tmp_path}.old" in message
    assert ": ." not in message  # a reason was found, not an empty one
