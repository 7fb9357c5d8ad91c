"""An assignment's explanation as people read it ("why this rep?", R2.2) — the lead page,
the rules preview and the API all use this."""

from dataclasses import asdict, dataclass

from django.utils.translation import gettext_lazy as _

from . import scoring

DIMENSION_LABELS = {
    "region": _("区域"),
    "industry": _("行业"),
    "grade": _("等级"),
    "customer_type": _("客户类型"),
}
SKIP_LABELS = {
    scoring.INACTIVE: _("不在岗"),
    scoring.ON_LEAVE: _("休假中"),
    scoring.AT_CAPACITY: _("已满额"),
    scoring.DECLINED: _("已拒绝或超时未确认"),
}
PASSED_LABELS = {"no_candidates": _("没有候选销售"), "none_eligible": _("候选销售均不可接")}


@dataclass(frozen=True)
class CandidateLine:
    rep: int
    name: str
    parts: list[tuple[str, float]]  # (label, points)
    total: float
    load: int
    skipped: str  # label, "" when eligible
    winner: bool


@dataclass(frozen=True)
class Explanation:
    manual: bool
    rule: str  # the rule that placed it, "" when all reps were candidates
    passed: list[str]  # rules tried before, each with why it was passed over
    summary: str  # why the winner won
    weights: list[tuple[str, int]]
    candidates: list[CandidateLine]
    considered: int
    eligible: int

    def as_dict(self) -> dict:
        return asdict(self)


def explain(data: dict, names: dict[int, str] | None = None) -> Explanation:
    """`data` as services.explanation stores it; rep names are looked up unless given."""
    if data.get("manual"):
        return Explanation(True, "", [], str(_("经理手动分配")), [], [], 0, 0)
    dims = [str(DIMENSION_LABELS.get(d, d)) for d in data.get("dims", [])]
    candidates = data.get("candidates", [])
    if names is None:
        names = rep_names(c[0] for c in candidates)
    lines = [
        CandidateLine(
            rep=rep,
            name=names.get(rep, f"#{rep}"),
            parts=list(zip(dims, parts, strict=False)),
            total=total,
            load=load,
            skipped=str(SKIP_LABELS.get(skipped, skipped or "")),
            winner=rep == data.get("winner"),
        )
        for rep, total, load, skipped, parts in candidates
    ]
    rule = data.get("rule")
    return Explanation(
        manual=False,
        rule=rule["name"] if rule else "",
        passed=[
            f"{p['name']}：{PASSED_LABELS.get(p['why'], p['why'])}" for p in data.get("passed", [])
        ],
        summary=_summary(data, lines),
        weights=list(zip(dims, data.get("weights", []), strict=False)),
        candidates=lines,
        considered=data.get("considered", 0),
        eligible=data.get("eligible", 0),
    )


def rep_names(ids) -> dict[int, str]:
    from leadflow.accounts.models import User

    return {u.pk: str(u) for u in User.objects.filter(pk__in=set(ids))}


def _summary(data: dict, lines: list[CandidateLine]) -> str:
    by_id = {c.rep: c for c in lines}
    w, r = by_id.get(data.get("winner")), by_id.get(data.get("runner_up"))
    why = data.get("why")
    if w is None:
        return str(_("没有可接手的销售：均已满额、休假、不在岗或已拒绝"))
    if why == scoring.ONLY or r is None:
        return str(_("%(w)s 是唯一可接手的候选人（%(s)s 分）") % {"w": w.name, "s": _n(w.total)})
    if why == scoring.BEST:
        return str(
            _("%(w)s 得分最高（%(ws)s 分；其次 %(r)s %(rs)s 分）")
            % {"w": w.name, "ws": _n(w.total), "r": r.name, "rs": _n(r.total)}
        )
    if why == scoring.LIGHTER:
        return str(
            _("%(w)s 与 %(r)s 同分（%(s)s 分），当前在跟线索更少（%(wl)s < %(rl)s）")
            % {"w": w.name, "r": r.name, "s": _n(w.total), "wl": w.load, "rl": r.load}
        )
    if why == scoring.WAITED:
        return str(_("%(w)s 与 %(r)s 同分同负载，距上次分配等待更久") % {"w": w.name, "r": r.name})
    return str(_("%(w)s 与 %(r)s 各项相同，按账号先后") % {"w": w.name, "r": r.name})


def _n(value: float) -> str:
    return f"{value:g}"
