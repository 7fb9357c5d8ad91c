"""The lead lifecycle as data: which status may follow which, and what evidence each needs.

Every move goes through `leads.services.move_lead`, which checks these tables and writes a
StageChange (SPEC R3.3). Later issues add services for the sales stages; the tables are
complete now so that history written by imports and demo data obeys the same rules.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from .models import Status as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_REVIEW: frozenset({S.UNASSIGNED, S.RETURNED, S.SCREENED_OUT, S.INVALID}),
    S.RETURNED: frozenset({S.PENDING_REVIEW, S.SCREENED_OUT, S.INVALID}),
    S.SCREENED_OUT: frozenset({S.PENDING_REVIEW, S.UNASSIGNED, S.INVALID}),
    S.UNASSIGNED: frozenset({S.ASSIGNED, S.POOL, S.INVALID}),
    S.ASSIGNED: frozenset({S.CONTACTING, S.UNASSIGNED, S.ASSIGNED, S.INVALID}),
    S.CONTACTING: frozenset({S.QUALIFIED, S.INVALID, S.POOL}),
    S.QUALIFIED: frozenset({S.EVALUATING, S.NEGOTIATING, S.INVALID, S.POOL}),
    S.EVALUATING: frozenset({S.NEGOTIATING, S.WON, S.INVALID, S.POOL}),
    S.NEGOTIATING: frozenset({S.WON, S.INVALID, S.POOL}),
    S.WON: frozenset({S.CONTACTING}),
    S.INVALID: frozenset({S.CONTACTING, S.UNASSIGNED}),
    S.POOL: frozenset({S.ASSIGNED, S.INVALID}),
}

# A reason is demanded for moves that undo or refuse something.
NEEDS_REASON: frozenset[tuple[str, str]] = frozenset(
    {(S.PENDING_REVIEW, S.RETURNED), (S.SCREENED_OUT, S.PENDING_REVIEW)}
    | {(S.SCREENED_OUT, S.UNASSIGNED)}
    | {(src, S.INVALID) for src in TRANSITIONS}
    | {(S.WON, S.CONTACTING), (S.INVALID, S.CONTACTING), (S.INVALID, S.UNASSIGNED)}
)

# A duplicate found after intake can be merged into its original while nobody owns it yet.
MERGEABLE = frozenset({S.PENDING_REVIEW, S.RETURNED, S.SCREENED_OUT, S.UNASSIGNED})


@dataclass(frozen=True)
class Evidence:
    """The facts a move rests on (R3.3)."""

    reason: str = ""
    need: str = ""
    won_amount: Decimal | None = None
    won_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        data = {"need": self.need, "won_amount": self.won_amount, "won_at": self.won_at}
        data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items() if v}
        if "won_at" in data:
            data["won_at"] = self.won_at.isoformat()
        return {**data, **self.extra}


class TransitionError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_transition(*, current: str, to: str, evidence: Evidence) -> None:
    """Raise TransitionError unless `current → to` is allowed and `evidence` suffices."""
    if to not in TRANSITIONS.get(current, ()):
        raise TransitionError(
            "transition_not_allowed",
            _("不能从“%(from)s”变更为“%(to)s”") % {"from": S(current).label, "to": S(to).label},
        )
    if (current, to) in NEEDS_REASON and not evidence.reason.strip():
        raise TransitionError("reason_required", _("此状态变更需要填写原因"))
    if to == S.QUALIFIED and not evidence.need.strip():
        raise TransitionError("need_required", _("“需求明确”需要填写客户需求描述"))
    if to == S.WON and (evidence.won_amount is None or evidence.won_at is None):
        raise TransitionError("won_evidence_required", _("“成交”需要成交金额和成交日期"))


# The order the sales stages are normally passed through; ties in `path` follow it.
STAGE_ORDER = (
    S.PENDING_REVIEW,
    S.UNASSIGNED,
    S.ASSIGNED,
    S.CONTACTING,
    S.QUALIFIED,
    S.EVALUATING,
    S.NEGOTIATING,
    S.WON,
    S.INVALID,
    S.POOL,
    S.RETURNED,
    S.SCREENED_OUT,
)
ENTRY_STATUSES = frozenset({S.PENDING_REVIEW, S.RETURNED, S.SCREENED_OUT, S.UNASSIGNED})


def path(start: str, to: str) -> list[tuple[str, str]]:
    """The shortest chain of allowed moves from `start` to `to` ("" = a lead not yet
    entered: it enters as 待分配 unless `to` is an entry status). Used to write a migrated
    lead's history so that it obeys the same table as every live move.

    >>> path("", "won")[-2:]
    [('qualified', 'evaluating'), ('evaluating', 'won')]
    """
    if start == to:
        return []
    if not start:
        first = str(to if to in ENTRY_STATUSES else S.UNASSIGNED)
        return [("", first), *path(first, to)]
    previous: dict[str, str] = {start: ""}
    frontier = [start]
    while frontier and to not in previous:
        following = []
        for status in frontier:
            for nxt in sorted(TRANSITIONS.get(status, ()), key=STAGE_ORDER.index):
                if nxt not in previous:
                    previous[nxt] = status
                    following.append(nxt)
        frontier = following
    if to not in previous:
        raise ValueError(f"no path from {start} to {to}")
    chain, status = [], to
    while status != start:
        chain.append((str(previous[status]), str(status)))
        status = previous[status]
    return chain[::-1]
