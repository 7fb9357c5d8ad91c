"""The statistics behind the sales-cycle report (R4.3)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.analytics.stats import kaplan_meier, quantile, summarize, summarize_counts


def test_r4_3_median_quartiles_and_p90_interpolate_like_pandas():
    s = summarize([1, 2, 3, 4, 10])
    got = (s.n, s.mean, s.p25, s.median, s.p75, s.p90, s.min, s.max)
    assert got == pytest.approx((5, 4, 2, 3, 4, 7.6, 1, 10))  # numpy.percentile gives the same
    assert summarize([3, 1, 4, 2]).median == 2.5  # an even count averages the middle two
    assert summarize([]).median is None


def test_r4_3_kaplan_meier_counts_open_leads_fairly():
    # won on days 2, 5, 5; still open after 3 and 7 days (the docstring's example)
    curve = kaplan_meier([(2, True), (3, False), (5, True), (5, True), (7, False)])
    assert curve[0] == (2, pytest.approx(0.2))
    assert curve[1] == (5, pytest.approx(1 - 0.8 / 3))
    assert len(curve) == 2


def test_r4_3_kaplan_meier_without_open_leads_is_the_plain_share():
    curve = kaplan_meier([(1, True), (2, True), (3, False)])
    assert curve == [(1, pytest.approx(1 / 3)), (2, pytest.approx(2 / 3))]


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=1, max_size=60))
def test_r4_3_the_won_share_only_grows_and_stays_within_bounds(observations):
    shares = [p for _t, p in kaplan_meier(observations)]
    assert shares == sorted(shares)
    assert all(0 <= p <= 1 for p in shares)
    won = sum(1 for _t, w in observations if w)
    assert (shares[-1] if shares else 0) >= won / len(observations) - 1e-9


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_r4_3_a_quantile_lies_between_min_and_max(values, q):
    ordered = sorted(values)
    assert ordered[0] - 1e-6 <= quantile(ordered, q) <= ordered[-1] + 1e-6


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 4)), max_size=30))
def test_r4_3_a_histogram_summarizes_like_its_values(histogram):
    """What the database's GROUP BY gives (value, count) summarizes like the values."""
    values = [v for v, n in histogram for _ in range(n)]
    got, want = summarize_counts(histogram), summarize(values)
    assert got.n == want.n
    for name in ("mean", "p25", "median", "p75", "p90", "min", "max"):
        assert getattr(got, name) == pytest.approx(getattr(want, name)), name


def test_r4_3_kaplan_meier_takes_counts_as_well():
    single = kaplan_meier([(2, True), (3, False), (5, True), (5, True), (7, False)])
    assert kaplan_meier([(2, True, 1), (3, False, 1), (5, True, 2), (7, False, 1)]) == single
