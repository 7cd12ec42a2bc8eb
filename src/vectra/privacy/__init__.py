"""Privacy: GDPR notices, objections, subject access, erasure, retention.

`notice_for` is the composer's seam: the Art. 14 notice a first email to an EU/EEA
recipient must carry, or None.
"""

from vectra.privacy.notice import notice_for

__all__ = ["notice_for"]
