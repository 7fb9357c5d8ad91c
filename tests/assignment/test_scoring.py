"""R2.2 weighted matching: the pure scoring function, by example and by property."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.assignment import scoring
from leadflow.assignment.scoring import LeadFacts, Live, Rep, Router, Rule, Weights

W = Weights()
LEAD = LeadFacts(region="华东", industry=3, grade="A", customer_type="enterprise")
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_r2_2_the_docstring_example():
    reps = [
        Rep(1, "杨敏", frozenset({"华东"}), frozenset({3}), frozenset("AB")),
        Rep(2, "吴霞", frozenset({"华东"}), frozenset({3, 5}), frozenset("AB")),
        Rep(3, "周杰", frozenset({"华东"}), frozenset(), frozenset("ABC")),
        Rep(4, "徐浩", frozenset({"华北"}), frozenset({3}), frozenset("A")),
        Rep(5, "何军", frozenset({"华东"}), frozenset({3}), frozenset("A")),
    ]
    live = Live({1: 12, 2: 8, 3: 2, 4: 0}, away={5: scoring.ON_LEAVE})
    d = scoring.decide(LEAD, reps, W, live)
    assert d.winner.scored.rep.name == "吴霞" and d.why == scoring.LIGHTER
    assert d.runner_up.scored.rep.name == "杨敏"
    totals = {c.scored.rep.name: c.scored.total for c in d.candidates}
    assert totals == {"杨敏": 100, "吴霞": 100, "周杰": 85, "徐浩": 60, "何军": 100}
    assert {c.scored.rep.name: c.skipped for c in d.candidates}["何军"] == scoring.ON_LEAVE
    parts = dict(next(c for c in d.candidates if c.scored.rep.id == 3).scored.parts)
    assert parts == {"region": 40, "industry": 15, "grade": 30}


def test_r2_2_fit_is_full_half_or_nothing():
    assert scoring.fit("华东", frozenset({"华东"})) == 1
    assert scoring.fit("华东", frozenset()) == 0.5  # a generalist
    assert scoring.fit("华东", frozenset({"华北"})) == 0
    assert scoring.fit("", frozenset()) == 0  # unknown on the lead: no one gains


def test_r2_2_weights_are_configurable_and_zero_weights_drop_out():
    rep = Rep(1, regions=frozenset({"华北"}), industries=frozenset({3}), grades=frozenset("A"))
    assert scoring.score(LEAD, rep, Weights(region=100, industry=0, grade=0)).total == 0
    assert scoring.score(LEAD, rep, Weights(region=0, industry=50, grade=50)).total == 100
    assert [d for d, _p in scoring.score(LEAD, rep, Weights(0, 50, 50)).parts] == [
        "industry",
        "grade",
    ]
    ct = Rep(2, customer_types=frozenset({"enterprise"}))
    assert dict(scoring.score(LEAD, ct, Weights(0, 0, 0, 10)).parts) == {"customer_type": 10}


def test_r2_2_ties_go_to_lighter_load_then_longest_wait_then_lower_id():
    a, b = Rep(1, regions=frozenset({"华东"})), Rep(2, regions=frozenset({"华东"}))
    d = scoring.decide(LEAD, [a, b], W, Live({1: 5, 2: 3}))
    assert (d.winner.scored.rep.id, d.why) == (2, scoring.LIGHTER)
    waited = Live({1: 3, 2: 3}, {1: T0, 2: T0 + timedelta(hours=1)})
    d = scoring.decide(LEAD, [a, b], W, waited)
    assert (d.winner.scored.rep.id, d.why) == (1, scoring.WAITED)
    never = Live({1: 3, 2: 3}, {1: T0, 2: None})  # never assigned: waited longest
    assert scoring.decide(LEAD, [a, b], W, never).winner.scored.rep.id == 2
    d = scoring.decide(LEAD, [b, a], W, Live({1: 3, 2: 3}))
    assert (d.winner.scored.rep.id, d.why) == (1, scoring.LOWER_ID)


def test_r2_2_score_comes_before_workload():
    best = Rep(1, regions=frozenset({"华东"}), industries=frozenset({3}))
    idle = Rep(2, regions=frozenset({"华东"}))
    d = scoring.decide(LEAD, [best, idle], W, Live({1: 40, 2: 0}))
    assert (d.winner.scored.rep.id, d.why) == (1, scoring.BEST)


def test_r2_2_skipped_reps_and_why():
    reps = [Rep(1), Rep(2), Rep(3), Rep(4), Rep(5)]
    away = {1: scoring.INACTIVE, 2: scoring.ON_LEAVE}
    live = Live({3: 2, 5: 0}, capacity={3: 2}, away=away)
    d = scoring.decide(LEAD, reps, W, live, declined=frozenset({4}))
    skipped = {c.scored.rep.id: c.skipped for c in d.candidates}
    assert skipped == {
        1: scoring.INACTIVE,
        2: scoring.ON_LEAVE,
        3: scoring.AT_CAPACITY,
        4: scoring.DECLINED,
        5: None,
    }
    assert (d.winner.scored.rep.id, d.why, d.eligible) == (5, scoring.ONLY, 1)
    nobody = scoring.decide(LEAD, reps[:4], W, live, declined=frozenset({4}))
    assert nobody.winner is None and nobody.why == ""


def test_r2_2_rules_first_match_with_someone_available_then_everyone():
    reps = [
        Rep(1, "key", team=None),
        Rep(2, "east-a", regions=frozenset({"华东"}), team=10),
        Rep(3, "east-b", regions=frozenset({"华东"}), team=10),
        Rep(4, "north", regions=frozenset({"华北"}), team=20),
    ]
    key_account = Rule(1, "大客户", industries=frozenset({3}), grades=frozenset("A"), rep=1)
    east = Rule(2, "华东组", regions=frozenset({"华东"}), team=10)
    north_only = Rule(3, "华北组", regions=frozenset({"华北"}), team=20)
    router = Router([key_account, east, north_only], reps, W)

    def state():  # a fresh state for each routing: east-b is at capacity
        return Live(capacity={3: 0})

    r = router.route(LEAD, state())
    assert (r.rule.name, r.decision.winner.scored.rep.id) == ("大客户", 1)
    # the named rep declined: the next matching rule's team
    r = router.route(LEAD, state(), declined=frozenset({1}))
    assert (r.rule.name, r.decision.winner.scored.rep.id) == ("华东组", 2)
    assert [(p.rule.name, p.why) for p in r.passed] == [("大客户", "none_eligible")]
    # nobody in the matching rules can take it: every rep is a candidate
    r = router.route(LEAD, state(), declined=frozenset({1, 2}))
    assert r.rule is None and r.decision.winner.scored.rep.id == 4
    # a rule's other conditions: a grade-B lead does not match the key-account rule
    b_lead = LeadFacts(region="华东", industry=3, grade="B")
    assert router.route(b_lead, state()).rule.name == "华东组"


def test_r2_2_channel_condition_includes_sub_channels():
    rule = Rule(1, "展会", channels=frozenset({7}), team=1)
    assert rule.matches(LeadFacts(channel=7))
    assert rule.matches(LeadFacts(channel=70, channel_parent=7))
    assert not rule.matches(LeadFacts(channel=8, channel_parent=9))
    assert Rule(2, "北京", provinces=frozenset({"11"}), team=1).matches(LeadFacts(province="11"))


regions = st.sampled_from(["华东", "华北", "华南", ""])
handled = st.frozensets(st.sampled_from(["华东", "华北", "华南"]), max_size=2)
rep_strategy = st.builds(
    Rep,
    id=st.integers(1, 10_000),
    regions=handled,
    industries=st.frozensets(st.integers(1, 4), max_size=2),
    grades=st.frozensets(st.sampled_from("ABC"), max_size=2),
)
lead_strategy = st.builds(
    LeadFacts,
    region=regions,
    industry=st.one_of(st.none(), st.integers(1, 4)),
    grade=st.sampled_from(["A", "B", "C", ""]),
)
weights_strategy = st.builds(
    Weights,
    region=st.integers(0, 100),
    industry=st.integers(0, 100),
    grade=st.integers(0, 100),
    customer_type=st.integers(0, 100),
)


@settings(max_examples=300, deadline=None)
@given(
    lead=lead_strategy,
    reps=st.lists(rep_strategy, max_size=25, unique_by=lambda r: r.id),
    weights=weights_strategy,
    data=st.data(),
)
def test_r2_2_property_the_winner_is_the_best_eligible_rep(lead, reps, weights, data):
    def some_reps(values):  # a state for some of the reps (the others: the defaults)
        return {r.id: data.draw(values) for r in reps if data.draw(st.booleans())}

    loads, capacity = some_reps(st.integers(0, 6)), some_reps(st.integers(0, 5))
    away = some_reps(st.sampled_from([scoring.INACTIVE, "on_leave"]))
    declined = frozenset(some_reps(st.just(True)))
    live = Live(dict(loads), capacity=dict(capacity), away=dict(away))
    d = scoring.decide(lead, reps, weights, live, declined)
    eligible = [r for r in reps if scoring.skip_reason(r.id, live, declined) is None]
    if not eligible:
        assert d.winner is None
        return
    # brute force: best score, then lighter load, then waited longest (all never), then id
    best = min(
        eligible,
        key=lambda r: (-scoring.score(lead, r, weights).total, loads.get(r.id, 0), r.id),
    )
    assert d.winner.scored.rep.id == best.id
    assert d.winner.skipped is None
    total = sum(weights.of(dim) for dim in scoring.DIMENSIONS)
    assert 0 <= d.winner.scored.total <= total
    # the winner was never at capacity, inactive, on leave or a decliner
    assert best.id not in declined and best.id not in away
    assert loads.get(best.id, 0) < capacity.get(best.id, scoring.DEFAULT_CAPACITY)
    # the explanation always holds the winner and the runner-up, and stays small
    assert any(c is d.winner for c in d.candidates)
    assert d.runner_up is None or any(c is d.runner_up for c in d.candidates)
    assert len(d.candidates) <= scoring.EXPLAIN_TOP + 2


@settings(max_examples=100, deadline=None)
@given(
    lead=lead_strategy,
    reps=st.lists(rep_strategy, min_size=1, max_size=15, unique_by=lambda r: r.id),
)
def test_r2_2_property_a_router_with_no_rules_equals_decide(lead, reps):
    live = Live()
    routed = Router([], reps, W).route(lead, live)
    direct = scoring.decide(lead, reps, W, live)
    assert routed.rule is None
    assert (routed.decision.winner is None) == (direct.winner is None)
    if direct.winner:
        assert routed.decision.winner.scored.rep.id == direct.winner.scored.rep.id
