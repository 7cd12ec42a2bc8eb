"""DKIM: per-domain RSA-2048 keys made by Vectra, signing outgoing mail with dkimpy.

The private key is stored encrypted by the credential vault; the public half is shown to
the customer as the TXT record to publish at `<selector>._domainkey.<domain>`. The signed
headers include List-Unsubscribe and List-Unsubscribe-Post, as Gmail and Yahoo require for
one-click unsubscribe to be trusted (RFC 8058 section 4).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import dkim
import dkim.crypto
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.integrations import vault
from vectra.mail.mailbox_models import DkimKey

_openssl_keys: dict[int, rsa.RSAPrivateKey] = {}


def _openssl_rsa_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """RSASSA-PKCS1-v1_5 by OpenSSL: dkimpy's pure-Python RSA costs ~30 ms per message.

    Same inputs and output as `dkim.crypto.RSASSA_PKCS1_v1_5_sign` (a hash object and
    dkimpy's parsed key); only SHA-256 (the sole algorithm we sign with) takes this path.
    """
    if digest.name != "sha256":
        return _pure_python_sign(digest, private_key)
    key = _openssl_keys.get(private_key["modulus"])
    if key is None:
        public = rsa.RSAPublicNumbers(private_key["publicExponent"], private_key["modulus"])
        key = rsa.RSAPrivateNumbers(
            p=private_key["prime1"],
            q=private_key["prime2"],
            d=private_key["privateExponent"],
            dmp1=private_key["exponent1"],
            dmq1=private_key["exponent2"],
            iqmp=private_key["coefficient"],
            public_numbers=public,
        ).private_key()
        _openssl_keys[private_key["modulus"]] = key
    return key.sign(digest.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


_pure_python_sign = dkim.crypto.RSASSA_PKCS1_v1_5_sign
# dkimpy looks both up as module globals of `dkim` when it signs; parsing the PEM (pure-Python
# ASN.1) once per key instead of once per message saves another millisecond.
dkim.RSASSA_PKCS1_v1_5_sign = _openssl_rsa_sign
dkim.parse_pem_private_key = functools.lru_cache(maxsize=64)(dkim.crypto.parse_pem_private_key)

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


@dataclass(frozen=True)
class DkimSigner:
    """What signing needs, decrypted once per batch."""

    domain: str
    selector: str
    private_key_pem: bytes

    def sign(self, message: bytes) -> bytes:
        """The `DKIM-Signature:` header line (with CRLF) for `message`."""
        return dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key_pem,
            include_headers=list(SIGNED_HEADERS),
            canonicalize=(b"relaxed", b"relaxed"),
        )


def generate_keypair() -> tuple[bytes, str]:
    """(private key PEM, public key base64 DER) for a new RSA-2048 DKIM key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(der).decode("ascii")


def txt_record_value(public_key_b64: str) -> str:
    """The TXT value to publish (RFC 6376 section 3.6.1)."""
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def dns_record(key: DkimKey) -> dict[str, str]:
    """The DNS record the customer publishes, as shown by the API."""
    return {
        "type": "TXT",
        "name": f"{key.selector}._domainkey.{key.domain}",
        "value": txt_record_value(key.public_key),
    }


def find_domain_key(session: Session, actor: Actor, domain: str) -> DkimKey | None:
    """The organization's DKIM key for `domain`, if one was generated."""
    return session.scalar(
        select(DkimKey).where(
            DkimKey.organization_id == actor.organization_id,
            DkimKey.domain == domain.strip().lower().rstrip("."),
        )
    )


def ensure_domain_key(session: Session, actor: Actor, domain: str) -> DkimKey:
    """The organization's DKIM key for `domain`, generated on first use."""
    domain = domain.strip().lower().rstrip(".")
    existing = find_domain_key(session, actor, domain)
    if existing is not None:
        return existing
    pem, public = generate_keypair()
    key = DkimKey(
        organization_id=actor.organization_id,
        domain=domain,
        # A dated selector lets a later key be published next to this one before switching.
        selector=f"vectra{dt.date.today():%Y%m}",
        secret=vault.encrypt({"private_key_pem": pem.decode("ascii")}),
        public_key=public,
    )
    session.add(key)
    session.flush()
    return key


def signer_for(key: DkimKey) -> DkimSigner:
    """A signer holding the decrypted private key of `key`."""
    pem = vault.decrypt(key.secret)["private_key_pem"]
    return DkimSigner(domain=key.domain, selector=key.selector, private_key_pem=pem.encode())


def verify(message: bytes, dnsfunc: object) -> bool:
    """Whether `message`'s DKIM signature verifies, with keys looked up by `dnsfunc`."""
    try:
        return bool(dkim.verify(message, dnsfunc=dnsfunc))
    except dkim.DKIMException:
        return False
