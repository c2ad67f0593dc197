"""The fast lane (``make test-fast``: ``pytest -m "not slow"``) stays fast: a test that uses a
fixture running the real models on audio, or the browser, is marked ``slow``."""
from __future__ import annotations

# conftest.py's fixtures that process the sample with the real models or start a browser
SLOW_FIXTURES = frozenset({"pipeline_default", "sample_interview", "sample_sidecar", "driver"})


def test_every_test_on_the_real_models_or_the_browser_is_marked_slow(request):
    items = request.session.items  # what this run collected (all of the fast lane in make test-fast)
    unmarked = [item.nodeid for item in items
                if SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                and item.get_closest_marker("slow") is None]
    assert unmarked == [], f"mark these @pytest.mark.slow: {unmarked}"


def test_the_slow_marker_is_declared(pytestconfig):
    assert any(line.startswith("slow:") for line in pytestconfig.getini("markers"))

