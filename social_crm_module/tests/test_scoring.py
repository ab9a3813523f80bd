"""The advocate score: properties (hypothesis), validation, tiers and explanations."""

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from social_crm_module import scoring
from social_crm_module.interaction import Kind

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
KINDS = [k.value for k in Kind]

events_st = st.lists(
    st.builds(
        scoring.Event,
        kind=st.sampled_from(KINDS),
        created_at=st.integers(min_value=0, max_value=400 * 24).map(
            lambda hours: NOW - timedelta(hours=hours)
        ),
        polarity=st.floats(min_value=-1, max_value=1, allow_nan=False),
    ),
    max_size=40,
)
positive_events_st = events_st.map(
    lambda events: [scoring.Event(e.kind, e.created_at, abs(e.polarity)) for e in events]
)
counts = st.integers(min_value=0, max_value=10**7)


def total(events, **kwargs):
    return scoring.score(events, now=kwargs.pop("now", NOW), **kwargs).total


@settings(max_examples=150, deadline=None)
@given(events_st, counts, counts, counts)
def test_bounded(events, followers, referrals, redemptions):
    value = total(events, followers=followers, referrals=referrals, redemptions=redemptions)
    assert 0 <= value <= 100


@settings(max_examples=150, deadline=None)
@given(events_st, counts, st.integers(min_value=1, max_value=10**6))
def test_monotonic_in_followers_referrals_and_redemptions(events, followers, extra):
    base = total(events, followers=followers, referrals=2, redemptions=2)
    assert total(events, followers=followers + extra, referrals=2, redemptions=2) >= base
    assert total(events, followers=followers, referrals=2 + extra, redemptions=2) >= base
    assert total(events, followers=followers, referrals=2, redemptions=2 + extra) >= base


@settings(max_examples=150, deadline=None)
@given(events_st, st.sampled_from(KINDS), st.floats(min_value=0, max_value=1))
def test_monotonic_in_positive_interactions(events, kind, polarity):
    extra = scoring.Event(kind, NOW - timedelta(days=1), polarity)
    assert total([*events, extra], followers=500) >= total(events, followers=500)


@settings(max_examples=150, deadline=None)
@given(events_st, st.floats(min_value=0.01, max_value=1))
def test_negative_interaction_lowers_and_is_not_engagement(events, polarity):
    negative = scoring.Event(Kind.MENTION.value, NOW - timedelta(days=1), -polarity)
    before = scoring.score(events, followers=500, now=NOW)
    after = scoring.score([*events, negative], followers=500, now=NOW)
    assert after.total <= before.total
    assert after.engagement == pytest.approx(before.engagement)
    assert after.negatives == before.negatives + 1


@settings(max_examples=150, deadline=None)
@given(positive_events_st, counts, st.integers(min_value=1, max_value=365))
def test_decays_with_time(events, followers, days):
    later = NOW + timedelta(days=days)
    assert total(events, followers=followers, now=later) <= total(events, followers=followers)


@settings(max_examples=100, deadline=None)
@given(events_st, counts, st.randoms(use_true_random=False))
def test_order_invariant(events, followers, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert total(shuffled, followers=followers) == total(events, followers=followers)


def test_no_interactions_scores_zero_even_with_followers():
    breakdown = scoring.score([], followers=10**6, now=NOW)
    assert breakdown.total == 0
    assert breakdown.tier == "none"
    assert breakdown.explain() == ["no interactions, referrals or redemptions yet"]


def test_kind_weights_order_as_documented():
    weights = scoring.ScoringParams().kind_weights
    assert weights["repost"] > weights["mention"] > weights["reply"] > weights["like"]
    assert weights["quote"] > weights["mention"]
    assert weights["reply"] > weights["follow"]


def test_one_celebrity_does_not_drown_everyone():
    fan = [scoring.Event("mention", NOW - timedelta(days=d), 0.5) for d in range(12)]
    celebrity = [scoring.Event("like", NOW - timedelta(days=1))]
    assert total(fan, followers=200) > total(celebrity, followers=5_000_000)


def test_half_life_halves_the_weight():
    params = scoring.ScoringParams(half_life_days=10)
    assert scoring.decay(10, params) == pytest.approx(0.5)
    assert scoring.decay(20, params) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engagement_weight": -1}, "engagement weight must be zero or more"),
        ({"half_life_days": 0}, "half-life must be more than 0"),
        ({"saturation": 0}, "saturation must be more than 0"),
        ({"tier_thresholds": (10, 30, 30, 80)}, "tier thresholds must increase"),
        ({"tier_thresholds": (50, 30, 60, 80)}, "tier thresholds must increase"),
        ({"tier_thresholds": (10, 30, 55)}, "give 4 tier thresholds"),
        ({"tier_thresholds": (10, 30, 55, 120)}, "between 0 and 100"),
        ({"kind_weights": {"like": -2}}, "weight of like must be zero or more"),
        ({"kind_weights": {"poke": 1}}, "unknown interaction kind"),
    ],
)
def test_invalid_parameters_are_refused_clearly(changes, message):
    with pytest.raises(ValueError, match=message):
        scoring.ScoringParams(**changes).validate()


def test_mapping_round_trip_and_unknown_keys():
    params = scoring.ScoringParams(half_life_days=14, tier_thresholds=(5, 20, 40, 70))
    again = scoring.ScoringParams.from_mapping(params.to_mapping())
    assert again == params
    with pytest.raises(ValueError, match="unknown scoring parameters: colour"):
        scoring.ScoringParams.from_mapping({"colour": 1})
    with pytest.raises(ValueError, match="half-life"):
        scoring.ScoringParams.from_mapping({"half_life_days": 0})


@pytest.mark.parametrize(
    ("value", "tier"),
    [(0, "none"), (9.99, "none"), (10, "bronze"), (30, "silver"), (55, "gold"), (99, "ambassador")],
)
def test_tier_for(value, tier):
    assert scoring.tier_for(value) == tier


def test_explain_names_kinds_and_orders_by_weight():
    events = [scoring.Event("repost", NOW - timedelta(days=1), 0.2)] * 3 + [
        scoring.Event("mention", NOW - timedelta(days=2), -0.6)
    ]
    lines = scoring.score(events, followers=300, now=NOW).explain()
    assert lines[0].startswith("engagement +")
    assert "3 reposts" in lines[0]
    assert any("1 negative interaction" in line for line in lines)


def test_rank_is_competition_ranking():
    assert scoring.rank({1: 50, 2: 70, 3: 50, 4: 0, 5: 10}) == {1: 2, 2: 1, 3: 2, 4: 0, 5: 4}


def test_sql_expressions_use_only_numbers_from_params():
    sql = scoring.sql_expressions(scoring.ScoringParams(half_life_days=7))
    assert set(sql) >= {"event_engagement", "total", "tier", "reach"}
    assert repr(scoring.LN2 / 7) in sql["decay"]
    assert "decay" in sql["event_engagement"]
    with pytest.raises(ValueError):
        scoring.sql_expressions(scoring.ScoringParams(half_life_days=0))


def test_random_reference_is_deterministic():
    rnd = random.Random(7)
    events = [
        scoring.Event(rnd.choice(KINDS), NOW - timedelta(hours=rnd.randint(0, 2000)), 0.3)
        for _ in range(50)
    ]
    assert total(events, followers=1234) == total(list(reversed(events)), followers=1234)
