"""``ivp search``: every occurrence, at the time its word was spoken; the index follows the sidecars."""
from __future__ import annotations

import json
import os
import re

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.study import index as idx
from pipeline.sidecar import find_sidecars

from test_study import EE, NAMES, add_interview, five, script_for, word_time  # noqa: F401


def expected(word_re: str, role=None, names=NAMES) -> set[tuple[str, float]]:
    """(recording, start) of every word matching ``word_re`` in the constructed scripts."""
    out = set()
    for name in names:
        for li, (r, text) in enumerate(script_for(name)):
            if role and r != role:
                continue
            for wi, w in enumerate(text.split()):
                if re.fullmatch(word_re, re.sub(r"\W", "", w.lower())):
                    out.add((f"{name}.wav", word_time(name, li, wi)))
    return out


def found(hits) -> set[tuple[str, float]]:
    return {(h.doc, t) for h in hits for t in h.times}


def search(folder, query, role=None):
    paths, _ = find_sidecars(folder)
    with idx.Index(idx.db_path(folder)) as index:
        index.sync(paths, folder)
        return index.search(query, role=role)


def test_every_occurrence_with_its_time(five):
    hits = search(five, "week")
    want = expected(r"weeks?")
    assert len(want) == 11  # "How is your week going?" and "... most days of the week." x5, "lovely all week"
    assert found(hits) == want
    # the sentence and its own times come with each hit
    h = next(h for h in hits if h.doc == "2024-03-04 ada.wav" and "lovely" in h.text)
    assert h.text == "The weather has been lovely all week, we even ate outside."
    assert h.start == word_time("2024-03-04 ada", 1, 0) and h.time == word_time("2024-03-04 ada", 1, 6)
    # stems: "spreadsheet" finds "spreadsheets" too; a phrase finds its first word's time
    assert found(search(five, "Google Sheets")) == {("2024-03-11 cleo.wav", word_time("2024-03-11 cleo", 5, 7))}


def test_role_filter_and_no_operators(five):
    assert found(search(five, "week", role=EE)) == expected(r"weeks?", role=EE)
    assert len(expected(r"weeks?", role=EE)) == 6
    assert search(five, 'week" OR NOT "x') == []  # the user's text is words, never FTS syntax
    assert search(five, "   ") == []


def test_the_index_follows_changes_and_deletions(five):
    before = search(five, "bakery")
    assert [h.doc for h in before] == ["2024-03-15 eve.wav"]
    lines = script_for("2024-03-15 eve")
    lines[3] = (EE, "Our pottery studio fires the kiln twice a week.")
    side = add_interview(five, "2024-03-15 eve", lines)
    os.utime(side, ns=(side.stat().st_atime_ns, side.stat().st_mtime_ns + 10_000_000))
    assert search(five, "bakery") == []
    assert [h.doc for h in search(five, "kiln")] == ["2024-03-15 eve.wav"]
    side.unlink()
    assert search(five, "kiln") == []
    paths, _ = find_sidecars(five)
    with idx.Index(idx.db_path(five)) as index:
        again = index.sync(paths, five)
        assert again.unchanged == 4 and not again.changed  # nothing re-read


def test_cli_search_text_and_json(five):
    res = CliRunner().invoke(main, ["search", str(five), "spreadsheet", "--role", "interviewee"])
    assert res.exit_code == 0, res.output
    t = word_time("2024-03-04 ada", 5, 8)
    line = next(l for l in res.output.splitlines() if "spreadsheet" in l)
    assert line.startswith(f"2024-03-04 ada.wav  0:{int(t):02d}  interviewee: Every Friday I export")
    res = CliRunner().invoke(main, ["search", str(five), "expensive", "--json"])
    data = json.loads(res.stdout)
    assert [(d["doc"], d["time"]) for d in data] == [("2024-03-15 eve.wav", word_time("2024-03-15 eve", 5, 4))]
    res = CliRunner().invoke(main, ["search", str(five), "zeppelin"])
    assert res.exit_code == 1


def test_many_changed_sidecars_are_read_in_parallel_with_the_same_result(five, tmp_path, monkeypatch):
    serial = search(five, "week")
    copy = tmp_path / "copy"
    import shutil
    shutil.copytree(five, copy, ignore=shutil.ignore_patterns(".ivp"))
    monkeypatch.setattr(idx, "PARALLEL_FROM", 2)  # five changed sidecars: worker processes
    calls = []
    real = idx._extract_all
    monkeypatch.setattr(idx, "_extract_all", lambda jobs: calls.append(len(jobs)) or real(jobs))
    parallel = search(copy, "week")
    assert calls == [5]
    assert [(h.doc, h.times, h.text) for h in parallel] == [(h.doc, h.times, h.text) for h in serial]
