"""`python -m bench plan` at a tiny scale, on the test database, as the application role:
the planner and the hand-written SQL write the same outbox rows and move the same
enrollments on, and the planner's query count does not grow with the accounts."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the generator uses COPY")


def test_plan_matches_the_hand_written_sql_with_constant_queries(db):
    from bench.plan import run

    lines = []
    small = run(150, say=lines.append)
    large = run(400, say=lines.append)
    for result in (small, large):
        assert result["match"], result["sums"]
        assert result["written"] == result["baseline_written"] > 0
        assert 0 < result["due"] < result["enrolled"]
    assert large["written"] > small["written"]
    assert small["queries"] == large["queries"]
    assert small["steps"] == large["steps"] == 16
