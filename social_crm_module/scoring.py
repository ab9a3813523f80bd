"""The advocate score: pure, explainable, every parameter in :class:`ScoringParams`.

For one person, from their interactions (kind, age in days, polarity in [-1, 1]),
their followers, and the referrals and coupon redemptions credited to them::

    decay(e)      = exp(-ln 2 * age_days(e) / half_life_days)
    positive(e)   = polarity(e) >= 0                       (negative: not engagement)

    engagement_raw = sum over positive e of  kind_weight[kind(e)] * decay(e)
    sentiment_raw  = sum over all e of       polarity(e) * decay(e)
    recency_raw    = max over positive e of  decay(e)      (0 without any)

    engagement  = engagement_weight  * ln(1 + engagement_raw)
    reach       = reach_weight       * ln(1 + followers) * recency_raw
    sentiment   = sentiment_weight   * sentiment_raw / (1 + |sentiment_raw|)
    recency     = recency_weight     * recency_raw
    referrals   = referral_weight    * ln(1 + referrals)
    redemptions = redemption_weight  * ln(1 + redemptions)

    raw   = max(0, engagement + reach + sentiment + recency + referrals + redemptions)
    total = round(100 * (1 - exp(-raw / saturation)), 2)        in [0, 100)
    tier  = the highest tier whose threshold <= total

Why this shape: logarithms keep one celebrity, or one very chatty account, from
drowning everyone else; reach counts only as much as the person is recently
active (no interactions, no reach); sentiment is a bounded soft sign; the final
saturation maps unbounded points onto 0..100. Every step is a sum, a max, exp or
ln, so PostgreSQL computes the same numbers in one set-based statement:
:func:`sql_expressions` gives the SQL fragments, built from the same parameters.

Properties (tested with hypothesis): bounded; monotonic in each positive input;
decays with time for non-negative interactions; invariant to event order.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone

from .interaction import Kind

LN2 = math.log(2)

TIER_KEYS = ("none", "bronze", "silver", "gold", "ambassador")

DEFAULT_KIND_WEIGHTS: Mapping[str, float] = {
    Kind.REPOST.value: 3.0,
    Kind.QUOTE.value: 3.0,
    Kind.MENTION.value: 2.0,
    Kind.REPLY.value: 1.5,
    Kind.COMMENT.value: 1.5,
    Kind.POST.value: 1.0,
    Kind.DM.value: 0.5,
    Kind.LIKE.value: 0.5,
    Kind.FOLLOW.value: 0.5,
}

COMPONENTS = ("engagement", "reach", "sentiment", "recency", "referrals", "redemptions")


@dataclass(frozen=True)
class ScoringParams:
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    engagement_weight: float = 20.0
    reach_weight: float = 3.0
    sentiment_weight: float = 10.0
    recency_weight: float = 5.0
    referral_weight: float = 15.0
    redemption_weight: float = 10.0
    half_life_days: float = 30.0
    saturation: float = 100.0
    #: minimum total for bronze, silver, gold, ambassador (strictly increasing)
    tier_thresholds: tuple[float, float, float, float] = (10.0, 30.0, 55.0, 80.0)

    def validate(self) -> ScoringParams:
        """Return self, or raise ``ValueError`` saying what is wrong."""
        for name in (
            "engagement_weight",
            "reach_weight",
            "sentiment_weight",
            "recency_weight",
            "referral_weight",
            "redemption_weight",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be zero or more, not {value}")
        for kind, weight in self.kind_weights.items():
            if kind not in {k.value for k in Kind}:
                raise ValueError(f"unknown interaction kind {kind!r} in the kind weights")
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"the weight of {kind} must be zero or more, not {weight}")
        if not math.isfinite(self.half_life_days) or self.half_life_days <= 0:
            raise ValueError(f"the half-life must be more than 0 days, not {self.half_life_days}")
        if not math.isfinite(self.saturation) or self.saturation <= 0:
            raise ValueError(f"the saturation must be more than 0, not {self.saturation}")
        thresholds = tuple(self.tier_thresholds)
        if len(thresholds) != len(TIER_KEYS) - 1:
            raise ValueError(f"give {len(TIER_KEYS) - 1} tier thresholds, not {len(thresholds)}")
        if any(not math.isfinite(t) or t < 0 or t > 100 for t in thresholds):
            raise ValueError("tier thresholds must lie between 0 and 100")
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError(
                "tier thresholds must increase: bronze < silver < gold < ambassador "
                f"(got {', '.join(f'{t:g}' for t in thresholds)})"
            )
        return self

    def to_mapping(self) -> dict:
        data = asdict(self)
        data["kind_weights"] = dict(self.kind_weights)
        data["tier_thresholds"] = list(self.tier_thresholds)
        return data

    @classmethod
    def from_mapping(cls, data: Mapping) -> ScoringParams:
        """Build from stored settings; unknown keys are refused, missing ones default."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown scoring parameters: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "kind_weights" in values:
            weights = dict(DEFAULT_KIND_WEIGHTS)
            weights.update({str(k): float(v) for k, v in values["kind_weights"].items()})
            values["kind_weights"] = weights
        if "tier_thresholds" in values:
            values["tier_thresholds"] = tuple(float(t) for t in values["tier_thresholds"])
        for name, value in list(values.items()):
            if name not in ("kind_weights", "tier_thresholds"):
                values[name] = float(value)
        return replace(cls(), **values).validate()


@dataclass(frozen=True)
class Event:
    kind: str
    created_at: datetime
    polarity: float = 0.0


@dataclass(frozen=True)
class Breakdown:
    engagement: float = 0.0
    reach: float = 0.0
    sentiment: float = 0.0
    recency: float = 0.0
    referrals: float = 0.0
    redemptions: float = 0.0
    total: float = 0.0
    tier: str = "none"
    #: how many positive interactions of each kind fed engagement (for explain)
    kinds: Mapping[str, int] = field(default_factory=dict)
    negatives: int = 0

    def explain(self, params: ScoringParams | None = None) -> list[str]:
        """Human lines, one per component, largest first: "why is Alice Gold?"."""
        params = params or ScoringParams()
        lines = []
        parts = {name: getattr(self, name) for name in COMPONENTS}
        for name, points in sorted(parts.items(), key=lambda kv: -abs(kv[1])):
            if not points:
                continue
            detail = ""
            if name == "engagement" and self.kinds:
                detail = ": " + ", ".join(
                    f"{count} {kind}{'s' if count > 1 else ''}"
                    for kind, count in sorted(self.kinds.items(), key=lambda kv: -kv[1])
                )
            elif name == "sentiment" and self.negatives:
                detail = f" ({self.negatives} negative interaction{'s' * (self.negatives > 1)})"
            elif name == "recency":
                detail = f" (half-life {params.half_life_days:g} days)"
            lines.append(f"{name} {points:+.1f}{detail}")
        if not lines:
            lines.append("no interactions, referrals or redemptions yet")
        return lines


def decay(age_days: float, params: ScoringParams) -> float:
    return math.exp(-LN2 * max(age_days, 0.0) / params.half_life_days)


def tier_for(total: float, params: ScoringParams | None = None) -> str:
    params = params or ScoringParams()
    tier = TIER_KEYS[0]
    for key, threshold in zip(TIER_KEYS[1:], params.tier_thresholds, strict=True):
        if total >= threshold:
            tier = key
    return tier


def score(
    events: Iterable[Event],
    *,
    followers: int = 0,
    referrals: int = 0,
    redemptions: int = 0,
    now: datetime | None = None,
    params: ScoringParams | None = None,
) -> Breakdown:
    """The reference implementation; the SQL in :func:`sql_expressions` must agree."""
    params = params or ScoringParams()
    now = now or datetime.now(timezone.utc)
    engagement_raw = sentiment_raw = recency_raw = 0.0
    kinds: Counter[str] = Counter()
    negatives = 0
    for event in events:
        age = (now - event.created_at).total_seconds() / 86400.0
        weight_now = decay(age, params)
        sentiment_raw += event.polarity * weight_now
        if event.polarity >= 0:
            engagement_raw += params.kind_weights.get(str(event.kind), 0.0) * weight_now
            recency_raw = max(recency_raw, weight_now)
            kinds[str(event.kind)] += 1
        else:
            negatives += 1
    parts = {
        "engagement": params.engagement_weight * math.log1p(engagement_raw),
        "reach": params.reach_weight * math.log1p(max(followers, 0)) * recency_raw,
        "sentiment": params.sentiment_weight * sentiment_raw / (1 + abs(sentiment_raw)),
        "recency": params.recency_weight * recency_raw,
        "referrals": params.referral_weight * math.log1p(max(referrals, 0)),
        "redemptions": params.redemption_weight * math.log1p(max(redemptions, 0)),
    }
    raw = max(0.0, sum(parts.values()))
    total = round(100 * (1 - math.exp(-raw / params.saturation)), 2)
    return Breakdown(
        **parts, total=total, tier=tier_for(total, params), kinds=dict(kinds), negatives=negatives
    )


def rank(totals: Mapping[int, float]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of positive totals; 0 for the rest."""
    ordered = sorted((t for t in totals.values() if t > 0), reverse=True)
    first = {}
    for position, total in enumerate(ordered, start=1):
        first.setdefault(total, position)
    return {key: first.get(total, 0) if total > 0 else 0 for key, total in totals.items()}


def _num(value: float) -> str:
    return repr(float(value))


def sql_expressions(params: ScoringParams | None = None) -> dict[str, str]:
    """SQL fragments of the same formula, for one set-based PostgreSQL statement.

    ``decay`` is computed once per interaction row over its ``age_days``; the
    per-event aggregates (use in a ``GROUP BY`` partner over rows with columns
    ``kind``, ``decay``, ``polarity``) are ``event_engagement``,
    ``event_sentiment``, ``event_recency``. Per-partner points over columns ``engagement``,
    ``sentiment``, ``recency`` (the three aggregates), ``followers``,
    ``referrals``, ``redemptions``: ``engagement``, ``reach``, ``sentiment``,
    ``recency``, ``referrals``, ``redemptions``. Then ``total`` over the six point
    columns, and ``tier`` over ``total``. Only numbers from validated parameters
    are inlined, so the fragments carry no user text.
    """
    p = (params or ScoringParams()).validate()
    factor = "decay"  # the column of each interaction's decay factor
    weight_cases = " ".join(
        f"WHEN '{kind}' THEN {_num(weight)}"
        for kind, weight in sorted(p.kind_weights.items())
        if kind in {k.value for k in Kind}
    )
    weight = f"(CASE kind {weight_cases} ELSE 0.0 END)"
    thresholds = list(zip(TIER_KEYS[1:], p.tier_thresholds, strict=True))
    tier_cases = " ".join(
        f"WHEN total >= {_num(t)} THEN '{key}'" for key, t in reversed(thresholds)
    )
    return {
        "decay": f"EXP(-{_num(LN2 / p.half_life_days)} * age_days)",
        "event_engagement": f"SUM(CASE WHEN polarity >= 0 THEN {weight} * {factor} ELSE 0.0 END)",
        "event_sentiment": f"SUM(polarity * {factor})",
        "event_recency": f"MAX(CASE WHEN polarity >= 0 THEN {factor} ELSE 0.0 END)",
        "engagement": f"{_num(p.engagement_weight)} * LN(1 + engagement)",
        "reach": f"{_num(p.reach_weight)} * LN(1 + GREATEST(followers, 0)) * recency",
        "sentiment": f"{_num(p.sentiment_weight)} * sentiment / (1 + ABS(sentiment))",
        "recency": f"{_num(p.recency_weight)} * recency",
        "referrals": f"{_num(p.referral_weight)} * LN(1 + GREATEST(referrals, 0))",
        "redemptions": f"{_num(p.redemption_weight)} * LN(1 + GREATEST(redemptions, 0))",
        "total": (
            "ROUND((100 * (1 - EXP(-GREATEST(engagement + reach + sentiment + recency"
            f" + referrals + redemptions, 0) / {_num(p.saturation)})))::numeric, 2)"
        ),
        "tier": f"(CASE {tier_cases} ELSE 'none' END)",
    }
