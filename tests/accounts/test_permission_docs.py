"""The README's "Roles and permissions" table says what the code enforces."""

from __future__ import annotations

from pathlib import Path

from vectra.accounts.api_keys import READ_PERMISSIONS, WRITE_PERMISSIONS
from vectra.accounts.permissions import ROLE_PERMISSIONS, Permission
from vectra.accounts.roles import Role

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = [c == "✓" for c in cells[1:]]
    assert set(rows) == {p.value for p in Permission}
    for permission in Permission:
        expected = [permission in ROLE_PERMISSIONS[role] for role in Role]
        expected += [permission in READ_PERMISSIONS, permission in WRITE_PERMISSIONS]
        assert rows[permission.value] == expected, permission.value
