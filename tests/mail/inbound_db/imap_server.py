"""A minimal IMAP4rev1 responder for tests: CAPABILITY, LOGIN, SELECT, UID SEARCH/FETCH, LOGOUT.

Enough of RFC 3501 for `imaplib` to log in, read UIDVALIDITY and fetch messages by UID; it
records the commands it received so a test can check what the poller asked for.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Folder:
    uidvalidity: int = 7001
    messages: dict[int, bytes] = field(default_factory=dict)  # uid -> raw


@dataclass
class ImapState:
    username: str
    password: str
    folders: dict[str, Folder] = field(default_factory=lambda: {"INBOX": Folder()})
    commands: list[str] = field(default_factory=list)
    logins: int = 0


class _Handler(socketserver.StreamRequestHandler):
    state: ImapState

    def _send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        state = self.server.state  # type: ignore[attr-defined]
        selected: Folder | None = None
        self._send("* OK [CAPABILITY IMAP4rev1] test server ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            state.commands.append(f"{command} {args}".strip())
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1")
                self._send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = [p.strip('"') for p in args.split(" ", 1)]
                if (user, password) != (state.username, state.password):
                    self._send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
                    continue
                state.logins += 1
                self._send(f"{tag} OK LOGIN completed")
            elif command in ("SELECT", "EXAMINE"):
                selected = state.folders.get(args.strip('"'))
                if selected is None:
                    self._send(f"{tag} NO no such mailbox")
                    continue
                self._send(f"* {len(selected.messages)} EXISTS")
                self._send(f"* OK [UIDVALIDITY {selected.uidvalidity}] UIDs valid")
                self._send(f"{tag} OK [READ-ONLY] {command} completed")
            elif command == "UID" and selected is not None:
                self._uid(tag, args, selected)
            elif command == "LOGOUT":
                self._send("* BYE logging out")
                self._send(f"{tag} OK LOGOUT completed")
                return
            else:
                self._send(f"{tag} BAD unsupported")

    def _uid(self, tag: str, args: str, folder: Folder) -> None:
        sub, _, rest = args.partition(" ")
        uids = sorted(folder.messages)
        if sub.upper() == "SEARCH":
            found = re.match(r"UID (\d+):\*", rest)
            low = int(found.group(1)) if found else 1
            # RFC 3501: n:* always includes the highest UID, even when it is below n.
            hits = [u for u in uids if u >= low] or uids[-1:]
            self._send("* SEARCH " + " ".join(str(u) for u in hits))
            self._send(f"{tag} OK SEARCH completed")
        elif sub.upper() == "FETCH":
            uid = int(rest.split(" ", 1)[0])
            raw = folder.messages.get(uid)
            if raw is not None:
                seq = uids.index(uid) + 1
                self.wfile.write(f"* {seq} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode())
                self.wfile.write(raw + b")\r\n")
            self._send(f"{tag} OK FETCH completed")
        else:
            self._send(f"{tag} BAD unsupported UID command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def running_imap(state: ImapState) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
