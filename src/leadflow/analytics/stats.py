"""Statistics for the sales-cycle report (R4.3). Pure.

- `summarize`: median, quartiles and p90 (linear interpolation between closest ranks, as
  pandas and numpy do by default), with the mean, min and max — a cycle's spread, not only
  its average.
- `kaplan_meier`: the share of leads won by each day, counting leads still open fairly. A
  lead still open after 30 days is not a lead "never won", nor is it left out: it counts as
  at risk until day 30 and then leaves the count (censored). With leads won on days 2, 5, 5
  and open leads followed for 3 and 7 days:

      day 2: 5 at risk, 1 won → still not won 4/5 = 0.8
      day 5: 3 at risk (the one open for 3 days has left), 2 won → 0.8 × 1/3 = 0.2667
      → won by day 5: 73.3 %, where "won ÷ all" would say 60 % and "won ÷ closed" 100 %.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p90: float | None
    min: float | None
    max: float | None


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly between closest ranks."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Iterable[float]) -> Summary:
    ordered = sorted(values)
    if not ordered:
        return Summary(0, None, None, None, None, None, None, None)
    return Summary(
        n=len(ordered),
        mean=sum(ordered) / len(ordered),
        p25=quantile(ordered, 0.25),
        median=quantile(ordered, 0.5),
        p75=quantile(ordered, 0.75),
        p90=quantile(ordered, 0.9),
        min=ordered[0],
        max=ordered[-1],
    )


def summarize_counts(histogram: Iterable[tuple[float, int]]) -> Summary:
    """`summarize` of values given as (value, how many times): the same figures as over
    the values themselves, without listing them (a database's GROUP BY gives these)."""
    pairs = sorted((v, n) for v, n in histogram if n > 0)
    total = sum(n for _v, n in pairs)
    if not total:
        return Summary(0, None, None, None, None, None, None, None)

    seen = list(accumulate(n for _v, n in pairs))  # values up to and including each pair

    def at(rank: int) -> float:  # the value at 0-based rank in the sorted values
        return pairs[min(bisect_right(seen, rank), len(pairs) - 1)][0]

    def q(fraction: float) -> float:
        position = (total - 1) * fraction
        low = int(position)
        a, b = at(low), at(min(low + 1, total - 1))
        return a + (b - a) * (position - low)

    return Summary(
        n=total,
        mean=sum(v * n for v, n in pairs) / total,
        p25=q(0.25),
        median=q(0.5),
        p75=q(0.75),
        p90=q(0.9),
        min=pairs[0][0],
        max=pairs[-1][0],
    )


def kaplan_meier(observations: Iterable[tuple]) -> list[tuple[float, float]]:
    """(time, won?) — or (time, won?, how many) — per lead → [(time, share won by then)]
    at each time a lead was won. A lead not won (still open, or closed otherwise) is
    censored at its time."""
    wins: dict[float, int] = defaultdict(int)
    censored: dict[float, int] = defaultdict(int)
    for observation in observations:
        n = observation[2] if len(observation) > 2 else 1
        (wins if observation[1] else censored)[observation[0]] += n
    at_risk = sum(wins.values()) + sum(censored.values())
    surviving = 1.0
    curve = []
    for time in sorted(wins.keys() | censored.keys()):
        won = wins.get(time, 0)
        if won:
            surviving *= 1 - won / at_risk
            curve.append((time, 1 - surviving))
        at_risk -= won + censored.get(time, 0)
    return curve
