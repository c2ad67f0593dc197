"""``ivp report``: the HTML it writes, and what a real headless chromium shows and does with it.

The browser tests skip (with a reason) when chromium, chromedriver or selenium is missing; install
them with ``scripts/install_browser_test_deps.sh``. Screenshots go to ``test-artifacts/report/``.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.cli import main
from pipeline.interview import INTERVIEWEE, INTERVIEWER, Interview, Moment, PipelineInfo, Recording, RoleAssignment
from pipeline.report import build, build_report
from pipeline import metrics
from pipeline.report.html import script_json

import kit
from browser import Firefox, require_firefox, serve
from kit import wait_for

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "report"
XSS = "<script>window.__xss = 1; alert(1)</script>"
XSS_IMG = '<img src=x onerror="window.__xss = 2">'
XSS_NAME = '<b id=xss-name>bold<b> & <img src=x onerror="window.__xss = 3">'  # no "/": a file name
DURATION = 24.0

# (start, end, role, text): a short interview with a 3.5 s silence the interviewer filled (9.0-12.5)
# and a 3.2 s one the interviewee broke (19.8-23.0)
SCRIPT = [
    (0.5, 3.2, INTERVIEWER, "Thanks for joining. How do you plan your week?"),
    (3.6, 9.0, INTERVIEWEE, "Mostly on Sunday evenings, with a paper notebook and a coffee."),
    (12.5, 14.0, INTERVIEWER, "Why Sunday?"),
    (14.2, 19.8, INTERVIEWEE, "It is quiet then. I look at the whole week before it starts."),
    (23.0, 23.8, INTERVIEWEE, "And the kids are asleep."),
]


def write_wav(path: Path, seconds: float = DURATION) -> Path:
    return kit.write_wav(path, seconds, swell=True)


def make_interview(audio: Path, script=SCRIPT, moments=True) -> Interview:
    segments, turns = kit.spoken([(r, s, e, text) for s, e, r, text in script], word_gap=0.0, space="")
    iv = Interview(
        source=Recording(str(audio.resolve()), kit.fake_sha(audio), DURATION, 1, 16000, "pcm_s16le"),
        pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"),
        language="en", language_probability=1.0, segments=segments, turns=turns,
        roles=RoleAssignment("S1", "S2", 0.9, "evidence"))
    kit.analysed(iv, DURATION)
    if moments:
        iv.moments = [Moment(12.5, 14.0, "closed_question", 'Closed question ("why sunday")', INTERVIEWER),
                      Moment(15.0, 15.5, "bookmark", "look at the whole week", INTERVIEWEE, "whole week")]
    iv.warnings = ["diarization found a third speaker (S3) for 0.4 s"]
    return iv


def add_recording(folder: Path, name: str, script=SCRIPT, moments=True) -> Path:
    """A WAV file and its sidecar in ``folder``; returns the sidecar."""
    folder.mkdir(parents=True, exist_ok=True)
    audio = write_wav(folder / name)
    iv = make_interview(audio, script, moments)
    return sidecar.write(iv, sidecar.sidecar_path(audio))


@pytest.fixture
def calls(tmp_path) -> Path:
    """tmp/calls with two interviews (one in a subfolder); the report goes to tmp/calls/ivp-report."""
    root = tmp_path / "calls"
    add_recording(root, "2024-05-01 acme.wav")
    below = [(s, e, INTERVIEWER if r == INTERVIEWEE else INTERVIEWEE, t) for s, e, r, t in SCRIPT]
    add_recording(root / "june", "20240603-globex.wav", below, moments=False)
    return root


@pytest.fixture
def hostile(tmp_path) -> Path:
    """An interview whose transcript and file name are HTML."""
    root = tmp_path / "hostile"
    script = list(SCRIPT)
    script[3] = (14.2, 19.8, INTERVIEWEE, f"{XSS} then {XSS_IMG} and </script><!-- a & b")
    add_recording(root, f"{XSS_NAME}.wav", script)
    return root


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


# --------------------------------------------------------------------------------- no browser

def test_metrics_of_a_known_interview(tmp_path):
    iv = make_interview(write_wav(tmp_path / "a.wav"))
    long = metrics.long_silences(iv)
    assert [(s.start, s.end) for s in long] == [(9.0, 12.5), (19.8, 23.0)]
    assert metrics.broken_by_interviewee(long) == 1
    assert metrics.questions_asked(iv) == 2  # "How do you plan your week?", "Why Sunday?"
    assert metrics.handover_waits(iv) == [3.5]
    assert metrics.median_wait(iv) == 3.5
    assert metrics.talk_seconds(iv) == {INTERVIEWER: 4.2, INTERVIEWEE: 11.8}


def test_build_writes_overview_pages_and_assets(calls):
    result = build(calls)
    out = calls / "ivp-report"
    assert result.index == out / "index.html" and result.index.is_file()
    assert (out / "assets" / "report.css").is_file() and (out / "assets" / "report.js").is_file()
    assert sorted(e.name for e in result.entries) == ["2024-05-01 acme.wav", "june/20240603-globex.wav"]
    index = result.index.read_text()
    assert "1 of 2</strong> interviews" in index and "within 70-80 %" in index
    assert "2024-05-01" in index and "2024-06-03" in index
    for e in result.entries:
        page = out / "interviews" / f"{e.slug}.html"
        assert page.is_file()
        src = re.search(r'<audio id="media"[^>]* src="([^"]+)"', page.read_text())[1]
        from urllib.parse import unquote
        assert (page.parent / unquote(src)).resolve() == Path(e.interview.source.path).resolve()
    # offline: nothing is fetched from anywhere else
    for f in [result.index, *out.glob("interviews/*.html"), *out.glob("assets/*")]:
        assert not re.search(r"(src|href)=\"(https?:)?//", f.read_text()), f


def test_interview_page_numbers(calls):
    result = build(calls, calls / "out")
    e = next(e for e in result.entries if "acme" in e.name)
    html = (calls / "out" / "interviews" / f"{e.slug}.html").read_text()
    assert re.search(r'id="questions">2<', html)
    assert re.search(r'id="median-wait">3.5 s<', html)
    assert 'id="long-silences">2 (1 by interviewee)<' in html
    assert html.count('class="line role-') == len(SCRIPT)
    assert html.count('class="pin seek pin-highlight"') == 1 and "look at the whole week" in html
    assert html.count('class="pin seek pin-coaching"') == 1 and 'id="moments-coaching"' in html
    assert e.summary["highlights"] == 1 and e.summary["moments"] == 2


def test_transcript_and_file_names_are_escaped(hostile):
    result = build(hostile)
    index = result.index.read_text()
    page = next((hostile / "ivp-report" / "interviews").glob("*.html")).read_text()
    for html in (index, page):
        assert "<b id=xss-name>" not in html and "<img" not in html
        assert "&lt;b id=xss-name&gt;bold&lt;b&gt; &amp; &lt;img src=x onerror=" in html
    assert XSS not in page
    assert "&lt;script&gt;window.__xss = 1; alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 2  # the JSON data block and report.js, nothing else
    data = re.search(r'<script type="application/json" id="ivp-data">(.*?)</script>', page, re.S)[1]
    assert json.loads(data)["title"] == f"{XSS_NAME}.wav"
    slug = result.entries[0].slug
    assert re.fullmatch(r"[A-Za-z0-9._-]+", slug)


def test_script_json_cannot_close_the_script_element():
    text = script_json({"t": "</script><!-- \u2028 & <b>"})
    assert "</" not in text and "<!--" not in text and "\u2028" not in text
    assert json.loads(text) == {"t": "</script><!-- \u2028 & <b>"}


def test_media_falls_back_to_a_file_beside_the_sidecar(tmp_path):
    side = add_recording(tmp_path / "a", "call.wav")
    moved = tmp_path / "b"
    moved.mkdir()
    for f in (tmp_path / "a").iterdir():
        shutil.move(str(f), moved / f.name)  # source.path now points at nothing
    result = build(moved, tmp_path / "report")
    e = result.entries[0]
    assert e.media_path == moved / "call.wav"
    assert e.media_href == "../../b/call.wav"
    assert side.name == e.sidecar.name


def test_missing_media_is_reported_on_the_page(tmp_path):
    side = add_recording(tmp_path / "a", "gone.wav")
    (tmp_path / "a" / "gone.wav").unlink()
    build(tmp_path / "a")
    page = next((tmp_path / "a" / "ivp-report" / "interviews").glob("*.html")).read_text()
    assert 'id="media-missing"' in page
    assert side.is_file()


def test_rebuild_drops_pages_of_removed_sidecars_and_skips_broken_ones(calls):
    build_report(calls)
    pages = calls / "ivp-report" / "interviews"
    assert len(list(pages.glob("*.html"))) == 2
    (calls / "june" / "20240603-globex.interview.json").unlink()
    (calls / "broken.interview.json").write_text("{not json")
    (pages / "mine.html").write_text("<p>not from ivp</p>")
    result = build(calls)
    assert [p.name for p in sorted(pages.glob("*.html"))] == ["2024-05-01-acme.html", "mine.html"]
    assert [s.path.name for s in result.skipped] == ["broken.interview.json"]
    assert "broken.interview.json" in result.index.read_text()


def test_cli_report(calls, tmp_path):
    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["report", str(calls), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "report: 2 interviews" in res.output and (out / "index.html").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(main, ["report", str(empty)])
    assert res.exit_code == 1 and "no interview sidecars" in res.output


# ------------------------------------------------------------------------------------ browser

def media_ready(driver):
    return wait_for(lambda: driver.execute_script(
        "var m = document.getElementById('media'); return m && m.readyState >= 1 && m.duration;"),
        what="the media element to load its metadata")


def current_time(driver) -> float:
    return driver.execute_script("return document.getElementById('media').currentTime;")


def assert_seeks_to(driver, expected: float, tolerance: float = 0.1):
    wait_for(lambda: abs(current_time(driver) - expected) <= tolerance, what=f"currentTime ~ {expected}")
    wait_for(lambda: not driver.execute_script("return document.getElementById('media').seeking;"),
             what="the seek to finish")
    assert abs(current_time(driver) - expected) <= tolerance


def browser_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@contextlib.contextmanager
def first_interview_page(driver, folder: Path, out: Path):
    """The report of ``folder`` built into ``out`` and served; the overview's first interview
    opened in ``driver``, its media loaded."""
    from selenium.webdriver.common.by import By

    build_report(folder, out)
    root = Path(os.path.commonpath([folder, out]))
    with serve(root) as base:
        driver.get(f"{base}/{out.relative_to(root).as_posix()}/index.html")
        driver.find_element(By.CSS_SELECTOR, "#interviews tbody tr td.date").click()
        wait_for(lambda: "/interviews/" in driver.current_url, what="the interview page")
        media_ready(driver)
        yield


@pytest.mark.slow
def test_browser_overview_click_into_interview_and_seek(calls, driver):
    from selenium.webdriver.common.by import By

    build(calls, calls / "report")
    with serve(calls) as base:
        driver.get(f"{base}/report/index.html")
        summary = driver.find_element(By.ID, "summary")
        assert "1 of 2 interviews within 70-80 %" in summary.text
        rows = driver.find_elements(By.CSS_SELECTOR, "#interviews tbody tr")
        assert [r.find_element(By.CSS_SELECTOR, "td.name").text for r in rows] == [
            "june/20240603-globex.wav", "2024-05-01 acme.wav"]
        assert all(r.is_displayed() for r in rows)
        bar = rows[1].find_element(By.CSS_SELECTOR, ".sharebar .fill")
        assert bar.size["width"] > 0 and rows[1].find_element(By.CSS_SELECTOR, ".verdict").text == "within"
        assert "2 (1 by interviewee)" in rows[1].text
        shot(driver, "01-overview")

        # sort by name (ascending), then filter by verdict and by text
        driver.find_element(By.CSS_SELECTOR, 'th[data-key="name"] button').click()
        names = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#interviews tbody td.name")]
        assert names == ["2024-05-01 acme.wav", "june/20240603-globex.wav"]
        from selenium.webdriver.support.ui import Select
        Select(driver.find_element(By.ID, "verdict-filter")).select_by_value("below")
        visible = [r for r in driver.find_elements(By.CSS_SELECTOR, "#interviews tbody tr") if r.is_displayed()]
        assert [r.find_element(By.CSS_SELECTOR, "td.name").text for r in visible] == ["june/20240603-globex.wav"]
        Select(driver.find_element(By.ID, "verdict-filter")).select_by_value("")
        driver.find_element(By.ID, "filter").send_keys("ACME")
        visible = [r for r in driver.find_elements(By.CSS_SELECTOR, "#interviews tbody tr") if r.is_displayed()]
        assert len(visible) == 1 and driver.find_element(By.ID, "shown").text == "1 of 2 shown"
        shot(driver, "02-overview-filtered")

        # clicking the row (not the link) opens the interview page
        visible[0].find_element(By.CSS_SELECTOR, "td.date").click()
        wait_for(lambda: driver.current_url.endswith("/report/interviews/2024-05-01-acme.html"),
                 what="the interview page")
        assert driver.find_element(By.ID, "title").text == "2024-05-01 acme.wav"
        media_ready(driver)
        assert driver.execute_script("return document.getElementById('media').duration;") == \
            pytest.approx(DURATION, abs=0.05)
        lanes = driver.find_elements(By.CSS_SELECTOR, "#timeline .lane")
        assert [lane.find_element(By.CSS_SELECTOR, ".lane-label").text for lane in lanes] == [
            "Interviewer", "Interviewee"]
        assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline .silence.long")) == 2
        assert driver.find_element(By.ID, "questions").text == "2"
        assert driver.find_element(By.ID, "median-wait").text == "3.5 s"

        # click a transcript line: the player seeks to its start, and the line is marked current
        line = driver.find_elements(By.CSS_SELECTOR, "#transcript .line")[3]
        start = float(line.get_attribute("data-start"))
        assert start == 14.2 and "look at the whole week" in line.text
        line.find_element(By.CSS_SELECTOR, ".text").click()
        assert_seeks_to(driver, start)
        assert "current" in line.get_attribute("class")
        shot(driver, "03-interview-after-line-click")

        # a moment pin seeks too
        driver.find_element(By.CSS_SELECTOR, "#timeline .pin-highlight").click()
        assert_seeks_to(driver, 15.0)
        driver.find_element(By.CSS_SELECTOR, "#moments-highlight button").click()
        assert_seeks_to(driver, 15.0)

        # clicking anywhere on the timeline seeks to that point
        track = driver.find_element(By.CSS_SELECTOR, "#timeline .lane-track")
        from selenium.webdriver import ActionChains
        ActionChains(driver).move_to_element_with_offset(track, track.size["width"] // 4, 0).click().perform()
        assert_seeks_to(driver, DURATION * 0.75, tolerance=0.25)
        playhead = driver.find_element(By.ID, "playhead").value_of_css_property("left")
        assert float(playhead.rstrip("px")) == pytest.approx(0.75 * track.size["width"], abs=3)

        # the current line follows playback
        driver.execute_script("document.getElementById('media').currentTime = 4.0;")
        wait_for(lambda: "current" in driver.find_elements(By.CSS_SELECTOR, "#transcript .line")[1]
                 .get_attribute("class"), what="line 2 to become current")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#transcript .line.current")) == 1
        shot(driver, "04-interview-following")
        assert browser_errors(driver) == []


@pytest.mark.slow
def test_browser_plays_and_follows(calls, driver):
    """Real playback (muted): time advances and the highlighted line follows it."""
    from selenium.webdriver.common.by import By

    out = calls / "report"
    build(calls, out)
    with serve(calls) as base:
        driver.get(f"{base}/report/interviews/2024-05-01-acme.html")
        media_ready(driver)
        driver.find_elements(By.CSS_SELECTOR, "#transcript .line")[2].click()  # 12.5 s
        assert_seeks_to(driver, 12.5)
        driver.execute_script("var m = document.getElementById('media'); m.muted = true; m.play();")
        wait_for(lambda: current_time(driver) > 14.3, timeout=15, what="playback past 14.3 s")
        lines = driver.find_elements(By.CSS_SELECTOR, "#transcript .line")
        wait_for(lambda: "current" in lines[3].get_attribute("class"), what="line 4 to follow playback")
        driver.execute_script("document.getElementById('media').pause();")


@pytest.mark.slow
def test_browser_escapes_hostile_text(hostile, driver):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    build(hostile)
    with serve(hostile) as base:
        driver.get(f"{base}/ivp-report/index.html")
        name = driver.find_element(By.CSS_SELECTOR, "#interviews td.name")
        assert name.text == f"{XSS_NAME}.wav"
        assert not driver.find_elements(By.CSS_SELECTOR, "img, #xss-name")
        name.find_element(By.TAG_NAME, "a").click()
        wait_for(lambda: "/interviews/" in driver.current_url, what="the interview page")
        media_ready(driver)
        line = driver.find_elements(By.CSS_SELECTOR, "#transcript .line .text")[3]
        assert line.text == f"{XSS} then {XSS_IMG} and </script><!-- a & b"
        assert driver.find_element(By.ID, "title").text == f"{XSS_NAME}.wav"
        assert driver.title.startswith(f"{XSS_NAME}.wav")
        assert not driver.find_elements(By.CSS_SELECTOR, "img, #transcript script, h1 b, #xss-name")
        assert driver.execute_script("return window.__xss === undefined;")
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text
        # the page still works: the JSON data block was not broken by "</script>"
        line.click()
        assert_seeks_to(driver, 14.2)
        shot(driver, "05-escaping")
        assert driver.execute_script("return window.__xss === undefined;")


@pytest.mark.slow
def test_browser_file_urls(calls, driver):
    """Opened straight from disk (file://), as someone double-clicking index.html would."""
    from selenium.webdriver.common.by import By

    index = build_report(calls)
    driver.get(index.as_uri())
    driver.find_element(By.LINK_TEXT, "2024-05-01 acme.wav").click()
    wait_for(lambda: driver.current_url.endswith("2024-05-01-acme.html"), what="the interview page")
    media_ready(driver)
    line = driver.find_elements(By.CSS_SELECTOR, "#transcript .line")[1]
    line.click()
    assert_seeks_to(driver, float(line.get_attribute("data-start")))
    shot(driver, "06-file-url")
    # a link to a moment in time: page.html#t=SECONDS
    driver.get(driver.current_url.split("#")[0] + "#t=12.5")
    driver.refresh()
    media_ready(driver)
    assert_seeks_to(driver, 12.5)
    assert "Why Sunday?" in driver.find_element(By.CSS_SELECTOR, "#transcript .line.current").text


@pytest.mark.slow
def test_browser_real_sample(tmp_path, driver, request):
    """The bundled recording, processed by the real pipeline, through the report in the browser."""
    from selenium.webdriver.common.by import By

    if not (ROOT / "sample_audio" / "interview.truth.json").is_file():
        pytest.skip("the bundled sample (sample_audio/) is not there")
    side = request.getfixturevalue("sample_sidecar")  # shared by other tests: write nothing beside it
    with first_interview_page(driver, side.parent, tmp_path / "report"):
        lines = driver.find_elements(By.CSS_SELECTOR, "#transcript .line")
        assert lines, "the transcript is empty"
        line = lines[len(lines) // 2]
        line.click()
        assert_seeks_to(driver, float(line.get_attribute("data-start")))
        assert "current" in line.get_attribute("class")
        shot(driver, "07-real-sample")
        assert browser_errors(driver) == []


@pytest.mark.slow
def test_firefox_seek_and_escaping(hostile, tmp_path):
    """The same page in headless Firefox (optional: skipped where firefox-esr is not installed)."""
    require_firefox()
    build(hostile)
    ff = Firefox(tmp_path / "firefox-profile")
    try:
        with serve(hostile) as base:
            ff.get(f"{base}/ivp-report/index.html")
            assert ff.js("document.querySelector('#interviews td.name').textContent") == f"{XSS_NAME}.wav"
            ff.click("#interviews tbody tr td.date")
            wait_for(lambda: "/interviews/" in ff.js("location.href") and ff.js(
                "document.readyState === 'complete' && !!document.getElementById('media')"),
                what="the interview page")
            wait_for(lambda: ff.js("document.getElementById('media').readyState >= 1"),
                     what="the media element to load its metadata")
            line = "#transcript .line:nth-child(4)"
            assert ff.js(f"document.querySelector('{line} .text').textContent") == \
                f"{XSS} then {XSS_IMG} and </script><!-- a & b"
            assert ff.js("document.querySelectorAll('img, #transcript script, #xss-name').length") == 0
            ff.click(f"{line} .text")
            wait_for(lambda: abs(ff.js("document.getElementById('media').currentTime") - 14.2) <= 0.1,
                     what="currentTime ~ 14.2 in firefox")
            assert "current" in ff.js(f"document.querySelector('{line}').className")
            assert ff.js("window.__xss === undefined")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            ff.screenshot(ARTIFACTS / "08-firefox-escaping.png")
    finally:
        ff.quit()


# ------------------------------------------------------------------ speakers and roles warning

def _speaker_rows(page: str) -> dict[str, dict]:
    rows = {}
    for m in re.finditer(r'<tr class="speaker[^"]*" data-speaker="([^"]+)">(.*?)</tr>', page, re.S):
        sample = re.search(r'<td class="sample">(.*?)</td>', m.group(2), re.S).group(1)
        start = re.search(r'class="seek play-first" data-start="([0-9.]+)"', m.group(2))
        rows[m.group(1)] = {"sample": sample, "start": float(start.group(1)) if start else None}
    return rows


def _first_words(iv: Interview, speaker: str, n: int = 6) -> list[str]:
    seg = min((s for s in iv.segments if s.speaker == speaker), key=lambda s: s.start)
    return seg.text.split()[:n]


@pytest.mark.slow
def test_sample_page_lists_speakers_with_first_words_and_first_turn(sample_sidecar, tmp_path):
    iv = sidecar.read(sample_sidecar)
    result = build(sample_sidecar, tmp_path / "report")
    page = (tmp_path / "report" / "interviews" / f"{result.entries[0].slug}.html").read_text()
    rows = _speaker_rows(page)
    speakers = {t.speaker for t in iv.turns}
    assert len(speakers) >= 2 and set(rows) == speakers
    for sid in speakers:
        sample = rows[sid]["sample"].lower()
        assert sample.startswith(_first_words(iv, sid, 1)[0].lower())
        for w in _first_words(iv, sid, 6):
            assert w.lower() in sample
        assert rows[sid]["start"] == pytest.approx(min(t.start for t in iv.turns if t.speaker == sid), abs=1e-3)
    if iv.roles.confidence >= 0.6 and "disagreement" not in iv.roles.evidence:
        assert 'id="roles-warning"' not in page


@pytest.mark.slow
def test_low_confidence_roles_warn_with_the_fix_command(sample_sidecar, tmp_path):
    iv = sidecar.read(sample_sidecar)
    folder = tmp_path / "low"
    folder.mkdir()
    iv.source.path = str(folder / "it's an interview.opus")  # a quote to escape, shell and HTML
    iv.roles.confidence = 0.4
    iv.roles.method = "evidence"
    iv.roles.evidence.pop("disagreement", None)
    side = sidecar.sidecar_path(folder / "it's an interview.opus")
    sidecar.write(iv, side)
    result = build(folder, tmp_path / "report")
    page = (tmp_path / "report" / "interviews" / f"{result.entries[0].slug}.html").read_text()
    index = (tmp_path / "report" / "index.html").read_text()
    import html as _html
    import shlex
    command = f"ivp roles {shlex.quote(iv.source.path)} --swap"
    shown = re.search(r'<code class="fix-command">(.*?)</code>', page).group(1)
    assert "'" not in shown and _html.unescape(shown).startswith(command)  # escaped, and pastes back
    warning = re.search(r'<div class="notice roles-warning" id="roles-warning"[^>]*>(.*?)</div>', page, re.S)
    assert warning and "0.40" in warning.group(1)
    assert f"--interviewer {iv.roles.interviewee}" in _html.unescape(warning.group(1))
    assert "roles-flag" in index and command in _html.unescape(index)
    searched = re.search(r'data-search="([^"]*)"', index).group(1)
    assert "roles?" in searched  # the overview's text filter finds the flagged rows
    assert shlex.split(command)[2] == iv.source.path  # the command pastes back to the right path

    iv.roles.method = "override"  # the user's own decision is never flagged
    sidecar.write(iv, side)
    build(folder, tmp_path / "report")
    assert 'id="roles-warning"' not in (tmp_path / "report" / "interviews" / f"{result.entries[0].slug}.html").read_text()
    assert "roles-flag" not in (tmp_path / "report" / "index.html").read_text()
    assert "roles?" not in re.search(r'data-search="([^"]*)"', (tmp_path / "report" / "index.html").read_text()).group(1)


@pytest.mark.slow
def test_browser_play_first_turn_button_seeks(sample_sidecar, tmp_path, driver):
    from selenium.webdriver.common.by import By

    with first_interview_page(driver, sample_sidecar.parent, tmp_path / "report"):
        buttons = driver.find_elements(By.CSS_SELECTOR, "#speakers .play-first")
        assert len(buttons) >= 2
        button = max(buttons, key=lambda b: float(b.get_attribute("data-start")))
        button.click()
        assert_seeks_to(driver, float(button.get_attribute("data-start")))
        assert browser_errors(driver) == []
