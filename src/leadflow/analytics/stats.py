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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(time, won?) per lead → [(time, share won by then)] at each time a lead was won.
    A lead not won (still open, or closed otherwise) is censored at its time."""
    events: dict[float, list[int]] = {}
    for time, won in observations:
        counts = events.setdefault(time, [0, 0])
        counts[0 if won else 1] += 1
    at_risk = sum(won + censored for won, censored in events.values())
    surviving = 1.0
    curve = []
    for time in sorted(events):
        won, censored = events[time]
        if won:
            surviving *= 1 - won / at_risk
            curve.append((time, 1 - surviving))
        at_risk -= won + censored
    return curve
