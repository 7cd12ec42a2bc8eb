"""Fit the BANT weights to what happened: a logistic model of "the meeting went well".

Features are the four sub-scores (0..1) recorded on each lead that reached a meeting with
an outcome; the label is a positive outcome. Plain numpy gradient descent with a little L2
(a few hundred points, four features: no solver needed). The fitted coefficients, floored
at a small positive value and scaled to mean 1, become the campaign's weights; the Brier
score (mean squared error of the predicted probabilities, 0 is perfect, 0.25 is a coin)
says how well calibrated the model is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.agents.bant import PARTS
from vectra.leads.models import Lead
from vectra.meetings.models import Meeting

MIN_MEETINGS = 30
POSITIVE_OUTCOMES = frozenset(
    {"won", "qualified", "opportunity", "positive", "interested", "next_steps", "closed_won"}
)
FLOOR = 0.05


@dataclass(frozen=True)
class Fit:
    weights: dict[str, float]
    coefficients: dict[str, float]
    intercept: float
    brier: float
    baseline_brier: float
    samples: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights, "coefficients": self.coefficients,
            "intercept": self.intercept, "brier": self.brier,
            "baseline_brier": self.baseline_brier, "samples": self.samples,
        }  # fmt: skip


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, l2: float = 1e-3,
    steps: int = 4000, rate: float = 0.5,
) -> tuple[npt.NDArray[np.float64], float]:  # fmt: skip
    """(coefficients, intercept) by batch gradient descent on the mean log-loss."""
    n, k = x.shape
    w = np.zeros(k)
    b = 0.0
    for _ in range(steps):
        p = _sigmoid(x @ w + b)
        err = p - y
        w -= rate * (x.T @ err / n + l2 * w)
        b -= rate * float(err.mean())
    return w, b


def fit_weights(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Fit:
    """Weights from (sub-scores / 25, outcome) rows; x columns in `PARTS` order."""
    # Centre the features: the intercept then carries the base rate, the slopes the signal.
    mean = x.mean(axis=0)
    w, b = fit_logistic(x - mean, y)
    p = _sigmoid((x - mean) @ w + b)
    brier = float(np.mean((p - y) ** 2))
    baseline = float(np.mean((y.mean() - y) ** 2))
    floored = np.maximum(w, FLOOR * max(float(np.abs(w).max()), 1e-9))
    scaled = floored / floored.mean()
    return Fit(
        weights={p_: round(float(v), 4) for p_, v in zip(PARTS, scaled, strict=True)},
        coefficients={p_: round(float(v), 4) for p_, v in zip(PARTS, w, strict=True)},
        intercept=round(b, 4),
        brier=round(brier, 4),
        baseline_brier=round(baseline, 4),
        samples=len(y),
    )


def outcome_rows(
    session: Session, actor: Actor
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The organization's scored leads whose meeting has an outcome (latest meeting per lead)."""
    rows = session.execute(
        select(Lead.id, Lead.bant_breakdown, Meeting.outcome)
        .join(Meeting, Meeting.lead_id == Lead.id)
        .where(
            Lead.organization_id == actor.organization_id,
            Meeting.organization_id == actor.organization_id,
            Meeting.outcome.is_not(None),
            Lead.bant_breakdown.is_not(None),
        )
        .order_by(Lead.id, Meeting.scheduled_at.desc())
    ).all()
    xs, ys = [], []
    seen: set[uuid.UUID] = set()
    for lead_id, breakdown, outcome in rows:
        if lead_id in seen:
            continue  # an earlier meeting of a lead already counted by its latest
        seen.add(lead_id)
        try:
            xs.append([float(breakdown[p]["score"]) / 25.0 for p in PARTS])
        except (KeyError, TypeError, ValueError):
            continue
        ys.append(1.0 if str(outcome).strip().lower() in POSITIVE_OUTCOMES else 0.0)
    return np.asarray(xs, dtype=np.float64).reshape(-1, 4), np.asarray(ys, dtype=np.float64)


def recalibrate(session: Session, actor: Actor, *, min_meetings: int = MIN_MEETINGS) -> Fit | None:
    """A fit from the organization's outcomes, or None below `min_meetings` or one class."""
    x, y = outcome_rows(session, actor)
    if len(y) < min_meetings or y.min() == y.max():
        return None
    return fit_weights(x, y)
