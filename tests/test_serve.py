"""``ivp serve``: correcting and annotating in a real headless Chromium against the server running
on the processed sample, then every other command reading the change (sidecar reads, SRT and EDL
exports, ``ivp search``, the study) and the edits surviving ``ivp process --force``; the token;
the loopback bind; ``ivp watch`` running while edits are saved.

The browser tests skip (with a reason) when chromium, chromedriver or selenium is missing.
Screenshots go to ``test-artifacts/serve/``.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.cli import main
from pipeline.edits import file as edits_file
from pipeline.interview import INTERVIEWEE, INTERVIEWER

from kit import patient, wait_for
from servekit import env, serving

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "serve"
NAME = "Dana (participant)"
NEW_WORD = "Zanzibar"
TAGS = ["pricing", "surprise"]


@pytest.fixture(scope="module")
def served_sample(sample_interview, tmp_path_factory) -> Path:
    """A folder holding a copy of the sample and its sidecar (processed once per test run)."""
    from conftest import sample_audio_path
    folder = tmp_path_factory.mktemp("serve") / "calls"
    folder.mkdir()
    audio = sample_audio_path()
    shutil.copy2(audio, folder / audio.name)
    iv = sidecar.parse(sidecar.dumps(sample_interview.to_dict()))  # a copy: the fixture stays as it is
    iv.source.path = str((folder / audio.name).resolve())
    sidecar.write(iv, sidecar.sidecar_path(folder / audio.name))
    return folder


@pytest.fixture
def small(tmp_path) -> Path:
    """A folder with one constructed interview (no model run)."""
    from test_edits import interview
    import kit
    folder = tmp_path / "small"
    folder.mkdir()
    audio = kit.write_wav(folder / "interview.wav", 20.0)
    sidecar.write(interview(audio), sidecar.sidecar_path(audio))
    return folder


def sidecar_of(folder: Path) -> Path:
    return next(folder.glob("*.interview.json"))


def _stale_safe(fn):
    """``fn`` asked while the page may be loading again: an element gone, not there yet, or (in
    Chromium) "node ... does not belong to the document" mid-reload is "not yet", asked again
    until the caller's timeout."""
    from selenium.common.exceptions import WebDriverException  # stale, missing, detached nodes

    def check():
        try:
            return fn()
        except WebDriverException:
            return None
    return check


def _after_save(driver, condition, what: str):
    """The page saves, then loads again: wait for ``condition`` on the new page."""
    return wait_for(_stale_safe(condition), timeout=30, what=what)


def _line(driver, start: float):
    return driver.find_element("css selector", f'.line[data-start="{start:.3f}"]')


def _shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _pick_lines(iv, speaker: str):
    """Two of ``speaker``'s segments of four words or more: one to correct, one to highlight."""
    segs = [s for s in sorted(iv.segments, key=lambda s: s.start)
            if s.speaker == speaker and len([w for w in s.words if w.word.strip()]) >= 4]
    assert len(segs) >= 2, "the sample has two longer answers by the interviewee"
    return segs[0], segs[1]


@pytest.mark.slow
def test_edit_in_the_browser_then_every_command_sees_it_and_reprocessing_keeps_it(served_sample, driver):
    side = sidecar_of(served_sample)
    raw = sidecar.read(side, edits=False)
    participant, researcher = raw.roles.interviewee, raw.roles.interviewer
    fix_seg, mark_seg = _pick_lines(raw, participant)
    words = fix_seg.text.split()
    old_word = words[1]
    corrected = " ".join([words[0], NEW_WORD, *words[2:]])
    with serving(served_sample) as server:
        assert server.base.startswith("http://127.0.0.1:")
        driver.get(server.url)  # the printed address: the token becomes a cookie, the overview opens
        wait_for(_stale_safe(lambda: driver.find_element("css selector", "#interviews a")), what="the overview")
        driver.find_element("css selector", "#interviews a").click()
        wait_for(_stale_safe(lambda: driver.find_element("css selector", "tr.speaker")), what="the interview page")

        # name a speaker
        box = driver.find_element("css selector", f'tr.speaker-edit[data-speaker="{participant}"] .name-input')
        box.send_keys(NAME + "\n")
        _after_save(driver, lambda: driver.find_element(
            "css selector", f'tr.speaker[data-speaker="{participant}"] .speaker-name').text == NAME, "the name")

        # fix a role with one click: the researcher is the interviewee (a swap, as ivp roles --swap)
        driver.find_element("css selector", f'tr.speaker-edit[data-speaker="{researcher}"] .role-btn[data-role="{INTERVIEWEE}"]').click()
        _after_save(driver, lambda: "role-interviewee" in driver.find_element(
            "css selector", f'tr.speaker[data-speaker="{researcher}"]').get_attribute("class"), "the role fix")

        # correct a word of a sentence
        line = _line(driver, fix_seg.start)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", line)
        line.find_element("css selector", ".edit-words").click()
        editor = line.find_element("css selector", ".word-editor")
        editor.clear()
        editor.send_keys(corrected + "\n")
        _after_save(driver, lambda: NEW_WORD in _line(driver, fix_seg.start).find_element("css selector", ".text").text,
                    "the corrected words")

        # a highlight from a selection, with tags and a note
        driver.execute_script("""
            var t = arguments[0].querySelector('.text'), node = t.firstChild, r = document.createRange();
            r.setStart(node, 0); r.setEnd(node, node.textContent.split(' ').slice(0, 3).join(' ').length);
            var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
            t.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));""", _line(driver, mark_seg.start))
        wait_for(lambda: driver.find_element("id", "highlight-form").is_displayed(), what="the highlight form")
        driver.find_element("id", "hl-tags").send_keys(", ".join(TAGS))
        driver.find_element("id", "hl-note").send_keys("said unprompted")
        _shot(driver, "01-highlight-form")
        driver.find_element("id", "hl-save").click()
        _after_save(driver, lambda: driver.find_element("css selector", ".moment-item.source-user .tag").text == TAGS[0],
                    "the highlight")
        _shot(driver, "02-edited")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]

        # share: copy the quote (with the speaker's name, the recording and a link), follow a #t= link
        button = _line(driver, fix_seg.start).find_element("css selector", ".copy-quote")
        driver.execute_script("arguments[0].click();", button)
        quote = wait_for(lambda: button.get_attribute("data-copied"), what="the copied quote")
        assert NEW_WORD in quote and f"— {NAME}" in quote and "interview.opus" in quote
        link = quote.splitlines()[-1]
        assert link.endswith(f"#t={fix_seg.start:.1f}") and link.startswith(server.base + "/ivp-report/interviews/")
        driver.get(f"{server.base}/interview/interview#t={mark_seg.start:.1f}")
        wait_for(lambda: abs(driver.execute_script("return document.getElementById('media').currentTime;")
                             - round(mark_seg.start, 1)) < 0.3, what="the player at the linked moment")

        # no token: refused, nothing changed
        before = edits_file.path_for(side).read_bytes()
        status, body = server.post("name", {"slug": "interview", "speaker": participant, "name": "Mallory"}, token=None)
        assert status == 403 and "token" in body["error"]
        assert server.post("name", {"slug": "interview", "speaker": participant, "name": "Mallory"}, token="guess")[0] == 403
        assert server.get("/ivp-report/index.html", token=None)[0] == 403
        assert edits_file.path_for(side).read_bytes() == before

    check_everything_sees_the_edits(served_sample, side, participant, researcher, fix_seg, mark_seg, old_word)
    sidecar_bytes = side.read_bytes()
    result = CliRunner().invoke(main, ["process", str(served_sample), "--force", "--quiet"])
    assert result.exit_code == 0, result.output
    assert side.read_bytes() != sidecar_bytes  # written again ...
    assert edits_file.path_for(side).read_bytes() == before  # ... and the edits file never touched
    check_everything_sees_the_edits(served_sample, side, participant, researcher, fix_seg, mark_seg, old_word)


@pytest.mark.slow
def test_merge_two_automatic_moments_in_the_browser(served_sample, tmp_path, driver):
    """"merge ↑" on an automatic moment (a highlight or a coaching note): one moment (one marker,
    one clip) with both kinds, in the sidecar read."""
    folder = tmp_path / "calls"
    shutil.copytree(served_sample, folder, ignore=shutil.ignore_patterns("*.edits.json", "ivp-report", ".ivp"))
    side = sidecar_of(folder)
    with serving(folder) as server:
        driver.get(server.url)
        wait_for(_stale_safe(lambda: driver.find_element("css selector", "#interviews a")), what="the overview")
        driver.find_element("css selector", "#interviews a").click()
        lists = wait_for(_stale_safe(lambda: driver.find_elements("css selector", "ul.moments")), what="the moments")
        group = next((ul.get_attribute("id") for ul in lists
                      if len(ul.find_elements("css selector", ".moment-item:not([data-id]), .moment-item[data-id='']")) >= 2),
                     None)
        assert group, "the sample has two automatic moments in one list"
        items = driver.find_elements("css selector", f"#{group} .moment-item")
        first = float(items[0].get_attribute("data-start"))
        second = items[1]
        kind, start = second.get_attribute("data-kind"), float(second.get_attribute("data-start"))
        assert not items[0].find_elements("css selector", ".moment-merge")  # nothing above the first
        button = second.find_element("css selector", ".moment-merge")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        _after_save(driver, lambda: len(driver.find_elements("css selector", f"#{group} .moment-item"))
                    == len(items) - 1, "the merged moments")
    iv = sidecar.read(side)
    assert not any(m.kind == kind and abs(m.start - start) < 1e-6 for m in iv.moments)
    merged = next(m for m in iv.moments if abs(m.start - min(first, start)) < 1e-6)
    assert kind == merged.kind or kind in merged.also
    assert merged.end >= start and len(iv.moments) == len(sidecar.read(side, edits=False).moments) - 1


def check_everything_sees_the_edits(folder, side, participant, researcher, fix_seg, mark_seg, old_word):
    iv = sidecar.read(side)
    assert iv.edit_notes == []
    assert iv.names == {participant: NAME}
    assert (iv.roles.interviewer, iv.roles.interviewee) == (participant, researcher)
    assert iv.roles.evidence["override"]["by"] == "ivp roles"
    seg = next(s for s in iv.segments if abs(s.start - fix_seg.start) < 0.5)
    assert NEW_WORD in seg.text and old_word not in seg.text.split()[1:2]
    new = next(w for w in seg.words if w.word.strip() == NEW_WORD)
    old = [w for w in fix_seg.words if w.word.strip()][1]
    assert abs(new.start - old.start) < 0.05 and abs(new.end - old.end) < 0.05  # the old word's time
    raw = sidecar.read(side, edits=False)
    assert NEW_WORD not in json.dumps(raw.to_dict()) and not raw.moments or all(not m.tags for m in raw.moments)
    user = [m for m in iv.moments if m.source == "user"]
    assert len(user) == 1 and user[0].tags == TAGS and user[0].note == "said unprompted"
    assert mark_seg.start - 0.01 <= user[0].start < user[0].end <= mark_seg.end + 0.01

    out = side.parent / "exports"
    result = CliRunner().invoke(main, ["export", str(side), "--format", "srt,edl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    srt = next(out.glob("*.srt")).read_text()
    assert f"{NAME}: " in srt and NEW_WORD in srt
    edl = next(out.glob("*.edl")).read_text()
    assert "PRICING, SURPRISE" in edl
    shutil.rmtree(out)

    result = CliRunner().invoke(main, ["search", str(folder), NEW_WORD, "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 1 and hits[0]["speaker_name"] == NAME and NEW_WORD in hits[0]["text"]
    result = CliRunner().invoke(main, ["search", str(folder), NEW_WORD])
    assert f"{NAME} ({INTERVIEWER}): " in result.stdout  # participant is the interviewer after the fix


@pytest.mark.slow
def test_rename_a_theme_in_the_browser(tmp_path, driver):
    from test_study import NAMES, add_interview  # five constructed interviews with two known themes
    from pipeline import edits_store
    folder = tmp_path / "study"
    for name in NAMES:
        add_interview(folder, name)
    edits_store.set_name(folder / f"{NAMES[0]}.interview.json", "S2", "Ada Lovelace")  # shown on her quotes
    with serving(folder) as server:
        driver.get(server.url)
        driver.get(f"{server.base}/ivp-report/study.html")
        theme = wait_for(_stale_safe(lambda: driver.find_element("css selector", "li.theme")), timeout=60, what="a theme")
        tid = theme.get_attribute("data-id")
        theme.find_element("css selector", ".theme-rename").click()
        alert = wait_for(lambda: driver.switch_to.alert, what="the rename prompt")
        alert.send_keys("Spreadsheet workarounds")
        alert.accept()
        _after_save(driver, lambda: driver.find_element("css selector", f"#theme-{tid} .theme-name").text
                    == "Spreadsheet workarounds", "the renamed theme")
        _shot(driver, "03-theme-renamed")
        assert any(w.text.endswith(" · Ada Lovelace") for w in driver.find_elements("css selector", ".quote .who"))
    assert 'name = "Spreadsheet workarounds"' in (folder / "study.toml").read_text()
    result = CliRunner().invoke(main, ["study", str(folder)])
    assert result.exit_code == 0, result.output
    data = json.loads((folder / "ivp-study" / "study.json").read_text())
    assert next(t for t in data["themes"] if t["id"] == tid)["name"] == "Spreadsheet workarounds"


def test_no_token_no_change_and_loopback_only(small):
    side = sidecar_of(small)
    path = edits_file.path_for(side)
    before = path.read_bytes() if path.exists() else None
    with serving(small) as server:
        host, port = server.base.rsplit("//", 1)[1].split(":")
        assert host == "127.0.0.1"
        for token in (None, "x" * len(server.token)):
            assert server.post("highlight", {"slug": "interview", "start": 1, "end": 2, "text": "x"}, token=token)[0] == 403
        assert server.get("/ivp-report/interviews/interview.html", token=None)[0] == 403
        assert server.get("/interview.wav", token=None)[0] == 403
        assert server.get("/interview.wav")[0] == 200
        assert server.get("/ivp-report/interviews/interview.html")[0] == 200
        assert server.get("/../../etc/passwd")[0] == 404
        import http.client  # a page of another site reaching us through DNS rebinding names its own host
        conn = http.client.HTTPConnection(host, int(port), timeout=patient(10))
        conn.request("GET", "/ivp-report/index.html", headers={"Host": f"evil.example:{port}", "X-IVP-Token": server.token})
        assert conn.getresponse().status == 400
        conn.close()
        assert (path.read_bytes() if path.exists() else None) == before
        others = _other_addresses()
        for address in others:  # bound to loopback: not reachable on the machine's other addresses
            with pytest.raises(OSError):
                socket.create_connection((address, int(port)), timeout=2).close()  # not stretched: must fail


def _other_addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=patient(5)).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out if not a.startswith("127.") and ":" not in a]


def test_a_network_bind_is_only_made_when_asked_and_said_loudly(small):
    result = CliRunner().invoke(main, ["serve", str(small), "--host", "nonsense host"])
    assert result.exit_code != 0
    if not shutil.which("unshare") or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode:
        pytest.skip("unshare -n is not allowed here: a 0.0.0.0 bind is not tried outside a private network")
    # in a private network namespace (only loopback, nothing exposed): --host 0.0.0.0 binds and says so
    with serving(small, "--host", "0.0.0.0", prefix=("unshare", "-n")) as server:
        assert any(line.startswith("WARNING: serving on 0.0.0.0, beyond this machine") for line in server.lines)


@pytest.mark.slow
def test_watch_and_serve_on_one_folder_lose_nothing(tmp_path, short_clip, sample_path):
    """``ivp watch`` processes a new recording (and refreshes roles and the report across the
    folder) while edits to another recording are saved through the server: every edit is kept and
    shown, and the watcher's results are all there."""
    from conftest import ffmpeg
    folder = tmp_path / "watched"
    folder.mkdir()
    shutil.copy2(short_clip, folder / "a.wav")
    watcher = subprocess.Popen([sys.executable, "-m", "pipeline", "watch", str(folder), "--settle", "0.5", "--quiet"],
                               env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        side = folder / "a.interview.json"
        wait_for(side.is_file, timeout=240, what="the watcher to process a.wav")
        speakers = sorted({t.speaker for t in sidecar.read(side).turns})
        with serving(folder) as server:
            ffmpeg("-i", str(sample_path), "-ss", "20", "-t", "20", "-ac", "1", "-ar", "16000", str(tmp_path / "b.wav"))
            shutil.move(str(tmp_path / "b.wav"), folder / "b.wav")  # appears whole: the watcher takes it
            saved, n, started = [], 0, time.monotonic()
            while not (folder / "b.interview.json").is_file() or n < 12:
                assert time.monotonic() - started < 300, "the watcher never processed b.wav"
                status, body = server.post("highlight", {"slug": "a", "start": 1.0 + n, "end": 1.5 + n,
                                                         "text": f"mark {n}", "tags": [f"t{n}"]})
                assert status == 200, body
                saved.append(body["id"])
                status, body = server.post("name", {"slug": "a", "speaker": speakers[n % len(speakers)],
                                                    "name": f"Person {n}"})
                assert status == 200, body
                n += 1
            wait_for(lambda: server.get("/ivp-report/interviews/b.html")[0] == 200, what="b on the served pages")
    finally:
        watcher.terminate()
        _out, err = watcher.communicate(timeout=patient(60))
    assert watcher.returncode == 0, err
    iv = sidecar.read(side)
    assert iv.edit_notes == []
    assert [m.id for m in iv.moments if m.source == "user"] == saved  # every edit, in order
    assert {iv.names[s] for s in speakers} == {f"Person {k}" for k in range(n - len(speakers), n)}
    doc = json.loads(edits_file.path_for(side).read_text())
    assert len(doc["highlights"]) == len(saved)
    b = sidecar.read(folder / "b.interview.json")  # the watcher's side: b processed, a still its own
    assert b.segments and not b.names and not (folder / "b.edits.json").exists()
    assert not list(folder.glob("*.error.json"))
    assert sidecar.read(side, edits=False).source.path == str((folder / "a.wav").resolve())


def test_static_pages_are_refreshed_after_roles_mark_and_an_edit(small):
    """A report ``ivp report`` wrote stays true: ``ivp roles``, ``ivp mark`` and an edit through the
    server rebuild it (and say so)."""
    side = sidecar_of(small)
    page = small / "ivp-report" / "interviews" / "interview.html"
    assert CliRunner().invoke(main, ["report", str(small), "--quiet"]).exit_code == 0
    assert "Interviewer</td>" in _row(page.read_text(), "S1")
    result = CliRunner().invoke(main, ["roles", str(side), "--swap"])
    assert result.exit_code == 0, result.output
    assert "report refreshed: " in result.output
    assert "Interviewee</td>" in _row(page.read_text(), "S1")
    result = CliRunner().invoke(main, ["mark", str(small / "interview.wav"), "6.5", "price", "shock"])
    assert result.exit_code == 0, result.output
    assert "price shock" in page.read_text()
    with serving(small) as server:
        assert server.post("name", {"slug": "interview", "speaker": "S2", "name": "Noor"})[0] == 200
        wait_for(lambda: "Noor" in page.read_text(), timeout=60, what="the static page to show the new name")


def _row(page: str, speaker: str) -> str:
    import re
    return re.search(rf'<tr class="speaker[^"]*" data-speaker="{speaker}">(.*?)</tr>', page, re.S).group(1)


def test_a_moment_as_one_self_contained_page(small, tmp_path):
    """``ivp export RECORDING --moment T``: the sentence at T with its speaker's name, the sentences
    around it, and those seconds of audio inside the page (nothing else needed to play it)."""
    import base64
    import re
    from pipeline import edits_store as store
    side = sidecar_of(small)
    store.set_name(side, "S2", "Dana")
    store.correct_words(side, 3.5, 9.5, "in a con", "an accountant")
    out = tmp_path / "share"
    result = CliRunner().invoke(main, ["export", str(small / "interview.wav"), "--moment", "0:05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = next(out.glob("interview.moment-*.html"))
    assert list(out.iterdir()) == [page]  # no temp file left
    html = page.read_text()
    assert "“I work as an accountant at a small firm in town.”" in html and "— Dana (Interviewee)" in html
    assert "What do you do for a living?" in html  # the question before it, for context
    assert "src=\"http" not in html and "<script" not in html
    media = base64.b64decode(re.search(r'src="data:audio/mp4;base64,([^"]+)"', html).group(1))
    (tmp_path / "clip.m4a").write_bytes(media)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(tmp_path / "clip.m4a")], capture_output=True, text=True, check=True)
    # every sentence within 8 s of it (0.5 s to 19 s here), 1 s of padding each side, within the 20 s file
    assert abs(float(probe.stdout) - 20.0) < 0.1
    bad = CliRunner().invoke(main, ["export", str(small / "interview.wav"), "--moment", "soon"])
    assert bad.exit_code != 0 and "--moment" in bad.output


def test_bad_requests_are_refused_with_a_reason_and_hostile_text_is_escaped(small):
    side = sidecar_of(small)
    with serving(small) as server:
        for action, body in (("name", {"slug": "nope", "speaker": "S1", "name": "A"}),
                             ("name", {"slug": "interview", "speaker": "S9", "name": "A"}),
                             ("words", {"slug": "interview", "start": "1", "end": 2, "old": "a", "new": "b"}),
                             ("words", {"slug": "interview", "start": 1, "end": 2, "old": "a", "new": "  "}),
                             ("highlight", {"slug": "interview", "start": 5, "end": 2, "text": "x"}),
                             ("highlight", {"slug": "interview", "start": 1, "end": 2, "text": "x", "tags": "a,b"}),
                             ("role", {"slug": "interview", "speaker": "S1", "role": "boss"}),
                             ("moment", {"slug": "interview", "start": 10.0, "kind": "closed_question", "action": "explode"}),
                             ("theme", {"id": "../../x", "name": "A"})):
            status, answer = server.post(action, body)
            assert status == 400 and answer["error"], (action, body, answer)
        assert not edits_file.path_for(side).exists() and not (small / "study.toml").exists()
        big = {"slug": "interview", "speaker": "S1", "name": "x" * (2 << 20)}
        assert server.post("name", big)[0] == 413
        evil = '<script>window.__x=1</script><img src=x onerror="window.__x=2">'
        assert server.post("name", {"slug": "interview", "speaker": "S2", "name": evil})[0] == 200
        assert server.post("highlight", {"slug": "interview", "start": 3.5, "end": 5, "text": evil,
                                         "tags": [evil[:60]], "note": evil})[0] == 200
        status, page = server.get("/ivp-report/interviews/interview.html")
        assert status == 200 and "<script>window.__x" not in page and "&lt;script&gt;window.__x=1" in page
        assert 'id="edit-notes"' not in page
        assert server.post("words", {"slug": "interview", "start": 3.5, "end": 9.5, "old": "in a bus",
                                     "new": "in a car"})[0] == 200  # words that were never there
        page = server.get("/ivp-report/interviews/interview.html")[1]
        assert 'id="edit-notes"' in page and "no longer aligns: &#39;bus&#39; not found there" in page
    assert sidecar.read(side).names == {"S2": " ".join(evil.split())}


def test_a_moment_of_a_video_carries_the_video(tmp_path):
    import base64
    import re
    from conftest import ffmpeg
    from test_edits import interview
    import kit
    folder = tmp_path / "video"
    folder.mkdir()
    wav = kit.write_wav(tmp_path / "tone.wav", 20.0)
    video = folder / "call.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-i", str(wav), "-t", "20", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video))
    iv = interview(video)
    iv.source.has_video, iv.source.frame_rate = True, 10.0
    sidecar.write(iv, sidecar.sidecar_path(video))
    result = CliRunner().invoke(main, ["export", str(video), "--moment", "14"])
    assert result.exit_code == 0, result.output
    html = next(folder.glob("call.moment-*.html")).read_text()
    assert "Mostly in a spreadsheet that I keep by hand every week." in html
    (tmp_path / "clip.mp4").write_bytes(base64.b64decode(re.search(r'<video id="media" [^>]*src="data:video/mp4;base64,([^"]+)"', html).group(1)))
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                            str(tmp_path / "clip.mp4")], capture_output=True, text=True, check=True)
    assert sorted(probe.stdout.split()) == ["audio", "video"]
