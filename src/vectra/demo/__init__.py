"""`vectra demo`: a demo organization taken through the whole pipeline in about a minute.

Domain-neutral: it only calls other domains' services (accounts, campaigns, leads, agents,
mail, meetings), in the order a sales team would use them. `people` makes the synthetic
prospects, `messages` the bounces and replies fed back, `pipeline` runs it all.
"""

from __future__ import annotations
