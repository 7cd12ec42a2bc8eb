"""A tiny UDP DNS server for tests (never real DNS): answers from a zone, counts queries."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset

from vectra.mail.domain_check import make_resolver

Zone = dict[tuple[str, str], list[str]]


class LocalDns:
    """Answers from `zone`; names in `silent` never answer (a timeout); unknown -> NXDOMAIN."""

    def __init__(self, zone: Zone, silent: set[str] | None = None) -> None:
        self.zone = zone
        self.silent = silent or set()
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while self._running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            kind = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, kind))
            if name in self.silent:
                continue
            response = dns.message.make_response(query)
            values = self.zone.get((name, kind))
            if values:
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", kind, *values))
            elif not any(n == name for n, _ in self.zone):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def resolver(self, timeout: float = 0.5) -> dns.resolver.Resolver:
        return make_resolver(["127.0.0.1"], port=self.port, timeout=timeout)

    def close(self) -> None:
        self._running = False
        self.sock.close()
