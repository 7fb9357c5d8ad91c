"""Weighted rep matching (R2.2): which rep gets a lead, and why. Pure: no ORM, no clock.

The algorithm
-------------
1. **Rules** (`route`). Rules are tried in their order; a rule applies when each condition
   it sets (regions, provinces, industries, grades, customer types, channels) contains the
   lead's value — an empty condition matches anything. Its candidates are its named rep (a
   key account) or its team's reps. When none of them can take the lead, the next rule is
   tried, and after the last one every rep is a candidate, so a lead is never left unowned
   while anyone at all can take it. Each rule tried and why it was passed over is kept.
2. **Eligibility**. A candidate is skipped — and the explanation says why — when inactive,
   on leave, at capacity (open leads ≥ capacity), or when they already declined this lead
   (or let its confirmation lapse).
3. **Score**. Each dimension d contributes weight_d × fit_d, where fit is 1 when the rep's
   profile lists the lead's value, ½ when the rep lists nothing for that dimension (a
   generalist takes anything, but a specialist fits better), and 0 when the rep lists other
   values or the lead's value is unknown. Dimensions: region, industry, grade (default
   weights 40 / 30 / 30) and customer type (weight 0 unless configured).
4. **Order**. The highest score wins; a tie goes to the rep with fewer open leads, then to
   whoever has waited longest since their last lead (never assigned = longest), then to the
   lower id, so the same inputs always give the same answer.

Worked example — weights 40 / 30 / 30; a grade-A lead from 华东 in 制造业 (industry 3):

    rep   regions  industries  grades     score                      open leads
    杨敏  华东      {3}         {A, B}     40 + 30 + 30 = 100         12
    吴霞  华东      {3, 5}      {A, B}     40 + 30 + 30 = 100          8
    周杰  华东      {}          {A, B, C}  40 + 15 + 30 =  85          2
    徐浩  华北      {3}         {A}         0 + 30 + 30 =  60          0
    何军  华东      {3}         {A}        on leave: skipped

杨敏 and 吴霞 tie at 100; 吴霞 has 8 open leads against 12, so 吴霞 wins, and the
explanation reads "tie on score, lighter workload (8 < 12)". 周杰's lighter load does not
matter: the score comes first.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

DIMENSIONS = ("region", "industry", "grade", "customer_type")
GENERALIST_FIT = 0.5
EXPLAIN_TOP = 8  # candidates kept in an explanation beyond the deciding ones

# why a candidate was skipped
INACTIVE, ON_LEAVE, AT_CAPACITY, DECLINED = "inactive", "on_leave", "at_capacity", "declined"
# why the winner won
ONLY, BEST, LIGHTER, WAITED, LOWER_ID = (
    "only_candidate",
    "best_score",
    "lighter_load",
    "waited_longest",
    "lower_id",
)
NEVER = datetime.min.replace(tzinfo=UTC)
MAX_BOARDS = 20_000


@dataclass(frozen=True)
class LeadFacts:
    region: str = ""
    province: str = ""  # province code
    industry: int | None = None
    grade: str = ""
    customer_type: str = ""
    channel: int | None = None
    channel_parent: int | None = None

    def key(self) -> tuple:
        """What the score depends on (rules also look at province and channel)."""
        return (self.region, self.industry, self.grade, self.customer_type)


@dataclass(frozen=True)
class Rep:
    """What a rep handles — it changes rarely, and scores depend only on it. Whether they
    can take a lead now (capacity, leave, workload) is `Live`."""

    id: int
    name: str = ""
    regions: frozenset[str] = frozenset()
    industries: frozenset[int] = frozenset()
    grades: frozenset[str] = frozenset()
    customer_types: frozenset[str] = frozenset()
    team: int | None = None


@dataclass(frozen=True)
class Weights:
    region: int = 40
    industry: int = 30
    grade: int = 30
    customer_type: int = 0

    def of(self, dimension: str) -> int:
        return getattr(self, dimension)


@dataclass
class Live:
    """Each rep's state as it stands: open leads, when they last got a lead, their capacity
    (default 50), and why they are away (INACTIVE or ON_LEAVE) if they are."""

    load: dict[int, int] = field(default_factory=dict)
    last_assigned: dict[int, datetime | None] = field(default_factory=dict)
    capacity: dict[int, int] = field(default_factory=dict)
    away: dict[int, str] = field(default_factory=dict)
    # Reads the state of reps not known yet (given their ids), so that one assignment
    # reads only the reps its rule could choose; None: everything is known.
    loader: Callable[["Live", set[int]], None] | None = None
    known: set[int] = field(default_factory=set)

    def ensure(self, ids: Iterable[int]) -> None:
        if self.loader is None:
            return
        missing = set(ids) - self.known
        if missing:
            self.loader(self, missing)
            self.known |= missing

    def took(self, rep_id: int, at: datetime) -> None:
        self.load[rep_id] = self.load.get(rep_id, 0) + 1
        self.last_assigned[rep_id] = at


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    regions: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    industries: frozenset[int] = frozenset()
    grades: frozenset[str] = frozenset()
    customer_types: frozenset[str] = frozenset()
    channels: frozenset[int] = frozenset()
    team: int | None = None
    rep: int | None = None

    def matches(self, lead: LeadFacts) -> bool:
        return (
            _allows(self.regions, lead.region)
            and _allows(self.provinces, lead.province)
            and _allows(self.industries, lead.industry)
            and _allows(self.grades, lead.grade)
            and _allows(self.customer_types, lead.customer_type)
            and (
                not self.channels
                or lead.channel in self.channels
                or lead.channel_parent in self.channels
            )
        )


def _allows(condition: frozenset, value) -> bool:
    return not condition or value in condition


@dataclass(frozen=True)
class Scored:
    rep: Rep
    parts: tuple[tuple[str, float], ...]  # (dimension, points), weighted dimensions only
    total: float


@dataclass(frozen=True)
class Candidate:
    """One line of an explanation: a scored rep, as the decision saw them."""

    scored: Scored
    load: int
    last_assigned_at: datetime | None
    skipped: str | None  # why not eligible, or None


@dataclass(frozen=True)
class Decision:
    winner: Candidate | None
    why: str  # ONLY, BEST, LIGHTER, WAITED, LOWER_ID; "" when nobody could take it
    runner_up: Candidate | None
    candidates: tuple[Candidate, ...]  # best first: the deciding ones and the next few
    considered: int  # candidates looked at
    eligible: int  # of them, how many could take the lead (counted while deciding)


def fit(value, handled: frozenset) -> float:
    if value in (None, ""):
        return 0.0
    if not handled:
        return GENERALIST_FIT
    return 1.0 if value in handled else 0.0


def score(lead: LeadFacts, rep: Rep, weights: Weights) -> Scored:
    handled = {
        "region": rep.regions,
        "industry": rep.industries,
        "grade": rep.grades,
        "customer_type": rep.customer_types,
    }
    parts = tuple(
        (d, weights.of(d) * fit(getattr(lead, d), handled[d])) for d in DIMENSIONS if weights.of(d)
    )
    return Scored(rep, parts, round(sum(points for _d, points in parts), 4))


def board(lead: LeadFacts, reps: Iterable[Rep], weights: Weights) -> tuple[Scored, ...]:
    """Every rep scored for `lead`, best score first. Depends only on the lead's key and the
    profiles, so a batch computes it once per kind of lead (see `Router`)."""
    return tuple(sorted((score(lead, rep, weights) for rep in reps), key=lambda s: -s.total))


DEFAULT_CAPACITY = 50


def skip_reason(rep_id: int, live: Live, declined: frozenset[int]) -> str | None:
    away = live.away.get(rep_id)
    if away:
        return away
    if rep_id in declined:
        return DECLINED
    if live.load.get(rep_id, 0) >= live.capacity.get(rep_id, DEFAULT_CAPACITY):
        return AT_CAPACITY
    return None


def choose(
    scored: Sequence[Scored], live: Live, declined: frozenset[int] = frozenset()
) -> Decision:
    """The best eligible rep on a `board`. Looks at the board only as far as the decision
    needs (the best eligible score level), plus a few more lines for the explanation."""
    lines: list[Candidate] = []
    best_level: float | None = None
    contenders: list[Candidate] = []
    eligible = 0
    considered = 0
    for s in scored:
        past_best = best_level is not None and s.total < best_level
        if past_best and len(lines) >= EXPLAIN_TOP and s.total < lines[-1].scored.total:
            break  # whole score levels only, so a runner-up is a true runner-up
        considered += 1
        load = live.load.get(s.rep.id, 0)
        line = Candidate(s, load, live.last_assigned.get(s.rep.id), None)
        why_not = skip_reason(s.rep.id, live, declined)
        if why_not:
            line = Candidate(s, load, line.last_assigned_at, why_not)
        else:
            eligible += 1
            if best_level is None:
                best_level = s.total
            if s.total == best_level:
                contenders.append(line)
        lines.append(line)
    if not contenders:
        return Decision(None, "", None, tuple(lines[:EXPLAIN_TOP]), considered, 0)
    contenders.sort(key=_tie_key)
    winner = contenders[0]
    others = [c for c in lines if c.skipped is None and c is not winner]
    runner_up = min(others, key=_rank_key) if others else None
    # the explanation: the best scores, skipped or not (so "on leave" shows), by score, and
    # always the winner and the runner-up
    ordered = sorted(lines, key=_rank_key)
    keep = ordered[:EXPLAIN_TOP]
    keep += [c for c in (winner, runner_up) if c is not None and not any(k is c for k in keep)]
    keep.sort(key=_rank_key)
    return Decision(winner, _why(winner, runner_up), runner_up, tuple(keep), considered, eligible)


def _tie_key(c: Candidate) -> tuple:
    return (c.load, c.last_assigned_at or NEVER, c.scored.rep.id)


def _rank_key(c: Candidate) -> tuple:
    return (-c.scored.total, *_tie_key(c))


def _why(winner: Candidate, runner_up: Candidate | None) -> str:
    if runner_up is None:
        return ONLY
    if winner.scored.total != runner_up.scored.total:
        return BEST
    if winner.load != runner_up.load:
        return LIGHTER
    if (winner.last_assigned_at or NEVER) != (runner_up.last_assigned_at or NEVER):
        return WAITED
    return LOWER_ID


def decide(
    lead: LeadFacts,
    reps: Iterable[Rep],
    weights: Weights,
    live: Live,
    declined: frozenset[int] = frozenset(),
) -> Decision:
    """Score every rep in `reps` for `lead` and choose (steps 2–4 of the module docstring)."""
    return choose(board(lead, reps, weights), live, declined)


@dataclass(frozen=True)
class Passed:
    rule: Rule
    why: str  # "no_candidates" | "none_eligible"


@dataclass(frozen=True)
class Routing:
    rule: Rule | None  # None: no rule could place it, every rep was a candidate
    decision: Decision
    passed: tuple[Passed, ...]


class Router:
    """Routes leads through the rules (step 1) with boards cached per rule and kind of lead,
    so that a batch of many leads scores each kind once. `live` is updated by the caller
    (`live.took(...)`) as leads are placed."""

    def __init__(self, rules: Sequence[Rule], reps: Sequence[Rep], weights: Weights) -> None:
        self.rules = list(rules)
        self.reps = {rep.id: rep for rep in reps}
        self.weights = weights
        self._by_team: dict[int | None, list[Rep]] = {}
        for rep in reps:
            self._by_team.setdefault(rep.team, []).append(rep)
        self._boards: dict[tuple, tuple[Scored, ...]] = {}

    def candidates(self, rule: Rule | None) -> list[Rep]:
        if rule is None:
            return list(self.reps.values())
        if rule.rep is not None:
            return [self.reps[rule.rep]] if rule.rep in self.reps else []
        return list(self._by_team.get(rule.team, []))

    def route(self, lead: LeadFacts, live: Live, declined: frozenset[int] = frozenset()) -> Routing:
        passed = []
        for rule in self.rules:
            if not rule.matches(lead):
                continue
            decision = self._decide(rule, lead, live, declined)
            if decision is None:
                passed.append(Passed(rule, "no_candidates"))
            elif decision.winner is None:
                passed.append(Passed(rule, "none_eligible"))
            else:
                return Routing(rule, decision, tuple(passed))
        decision = self._decide(None, lead, live, declined)
        if decision is None:
            decision = Decision(None, "", None, (), 0, 0)
        return Routing(None, decision, tuple(passed))

    def _decide(
        self, rule: Rule | None, lead: LeadFacts, live: Live, declined: frozenset[int]
    ) -> Decision | None:
        key = (rule.id if rule else None, lead.key())
        scored = self._boards.get(key)
        if scored is None:
            if len(self._boards) >= MAX_BOARDS:  # a bound on memory; rebuilt as needed
                self._boards.clear()
            scored = board(lead, self.candidates(rule), self.weights)
            self._boards[key] = scored
        if not scored:
            return None
        live.ensure(s.rep.id for s in scored)
        return choose(scored, live, declined)
