"""``ivp search``: every occurrence, at the time its word was spoken; the index follows the sidecars."""
from __future__ import annotations

import json
import os
import re

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.study.query import QueryError, parse
from pipeline.study.search import find
from pipeline.study import index as idx
from pipeline.sidecar import find_sidecars

import pytest

from test_study import EE, ER, NAMES, PRICING, SPREADSHEET, add_interview, five, script_for, word_time  # noqa: F401


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


# ------------------------------------------------------------------------------------ the syntax

def texts(hits) -> set[tuple[str, str]]:
    return {(h.doc[:-4], h.text) for h in hits}


def theme_line(name: str) -> str:
    return SPREADSHEET.get(name) or PRICING[name]


def test_phrase_prefix_or_and_not(five):
    ada, ben, cleo, eve = "2024-03-04 ada", "2024-03-06 ben", "2024-03-11 cleo", "2024-03-15 eve"
    assert texts(search(five, '"by hand"')) == {(ada, theme_line(ada))}
    assert search(five, '"hand by"') == []  # a phrase keeps its order
    assert texts(search(five, "spread*")) == {(ada, theme_line(ada))}
    assert search(five, "spread") == []  # without * the word itself
    assert texts(search(five, "sheet*")) == {(ben, theme_line(ben)), (cleo, theme_line(cleo))}
    assert texts(search(five, "export OR reports")) == {(ada, theme_line(ada)), (cleo, theme_line(cleo))}
    assert texts(search(five, "honestly")) == {(ben, theme_line(ben)), (eve, theme_line(eve))}
    for q in ("honestly -expensive", "honestly NOT expensive", 'honestly -"too expensive"'):
        assert texts(search(five, q)) == {(ben, theme_line(ben))}, q
    # OR inside an AND: sentences with "team" and either word
    assert texts(search(five, "team export OR data")) == {(cleo, theme_line(cleo))}


def test_field_filters_role_and_tag(five):
    asked = search(five, "role:interviewer week")
    assert len(asked) == 5 and {h.role for h in asked} == {ER}
    assert found(search(five, "week role:interviewee")) == expected(r"weeks?", role=EE)
    # tag: the highlights over a sentence (here the detected workarounds), also with no words at all
    tagged = search(five, "tag:workaround")
    assert texts(tagged) == {(n, theme_line(n)) for n in SPREADSHEET}
    assert all("workaround" in h.tags for h in tagged)
    assert texts(search(five, "tag:workaround excel")) == {("2024-03-06 ben", theme_line("2024-03-06 ben"))}
    assert search(five, "tag:no-such-tag") == []


def test_hits_carry_the_sentences_around_them(five):
    (h,) = search(five, '"by hand"')
    assert h.before == "What is the hardest part of using the tool?"
    assert h.after == "That is the part I would change first."
    (first,) = [x for x in search(five, "joining") if x.doc == "2024-03-04 ada.wav"]
    assert first.before == "" and first.after == "How is your week going?"
    out = CliRunner().invoke(main, ["search", str(five), '"by hand"']).stdout.splitlines()
    assert out[1] == ("    before: What is the hardest part of using the tool?  |  "
                      "after: That is the part I would change first.")


@pytest.mark.parametrize("query, says", [
    ('"by hand', "unclosed quote"), ("OR report", "OR needs a word"), ("report OR", "OR needs a word"),
    ("-spreadsheet", "only words to leave out"), ("report NOT", "NOT needs a word"),
    ("colour:red report", "unknown field 'colour'"), ("text:report", "unknown field 'text'"), ("role:boss", "the roles are"), ("spr*ad", "'*' goes at the end"),
    ("role:", "needs a value"),
])
def test_malformed_queries_are_one_line_and_exit_2(five, query, says):
    with pytest.raises(QueryError, match=re.escape(says)):
        parse(query)
    res = CliRunner().invoke(main, ["search", str(five), "--", query])  # "--": a query may start with "-"
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().count("\n") == 0 and says in res.stderr and "Traceback" not in res.output
    assert res.stderr.startswith("error: query: ")


def test_the_query_never_reaches_fts_as_syntax(five):
    """Words FTS5 would read as syntax (NEAR, column filters, ^, parentheses) are only words here."""
    for q in ("NEAR(report export)", "^spreadsheet", "(spreadsheet)", "spreadsheet}"):
        assert texts(search(five, q)) <= {("2024-03-04 ada", theme_line("2024-03-04 ada"))}, q
    assert parse("a OR b -c").fts() == '("a" OR "b") NOT ("c")'


def test_theme_filter_reads_the_study(five):
    from pipeline.study import build_study
    theme = next(t for t in build_study(five).data["themes"] if t["n_interviews"] == 3)
    hits = find(five, f"theme:{theme['id']} honestly").hits
    assert texts(hits) == {("2024-03-06 ben", theme_line("2024-03-06 ben"))}
    res = CliRunner().invoke(main, ["search", str(five), "theme:nonesuch report"])
    assert res.exit_code == 2 and "no such theme" in res.stderr


def test_meaning_finds_the_paraphrase(five):
    """"doing it by hand" says what "fix the totals by hand" says, in other words; "too pricey"
    finds the two price complaints though neither says "pricey"; -words and filters still hold."""
    ada = "2024-03-04 ada"
    assert search(five, "doing it by hand") == []  # by the words: "doing" is said nowhere
    hits = find(five, "doing it by hand", meaning=True, limit=3).hits
    assert (ada, theme_line(ada)) in texts(hits)
    pricey = find(five, "too pricey role:interviewee", meaning=True, limit=2).hits
    assert texts(pricey) == {(n, theme_line(n)) for n in PRICING}
    assert all(h.score is not None and h.score > 0.3 for h in pricey)
    tagged = find(five, "doing it by hand tag:workaround", meaning=True, limit=5).hits
    assert tagged and texts(tagged) <= {(n, theme_line(n)) for n in SPREADSHEET} and tagged[0].doc == f"{ada}.wav"
    left = find(five, "too pricey role:interviewee -expensive", meaning=True, limit=2).hits
    assert ("2024-03-15 eve", theme_line("2024-03-15 eve")) not in texts(left)
    res = CliRunner().invoke(main, ["search", str(five), "doing it by hand", "--meaning", "--limit", "3"])
    assert res.exit_code == 0 and "embedding" not in res.stderr  # embedded above already
    (five / "2024-03-20 fay.interview.json").write_bytes((five / "2024-03-15 eve.interview.json").read_bytes()
                                                         .replace(b"bakery", b"bicycle shop"))
    res = CliRunner().invoke(main, ["search", str(five), "doing it by hand", "--meaning", "--limit", "3"])
    assert "embedding 1 sentence not searched by meaning before" in res.stderr, res.stderr
    res = CliRunner().invoke(main, ["search", str(five), "doing it by hand", "--meaning", "--json", "--limit", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    top = next(d for d in data if d["doc"] == f"{ada}.wav")
    assert top["link"].startswith("file://") and top["link"].endswith(f"#t={top['time']:g}")
    assert top["before"] == "What is the hardest part of using the tool?"
    # the order fuses meaning and words: each hit says whether its words matched, so a lower
    # cosine above a higher one reads as what it is
    assert all(isinstance(d["word_match"], bool) for d in data)
    res = CliRunner().invoke(main, ["search", str(five), "doing it by hand", "--meaning", "--limit", "3"])
    assert all(re.search(r"\[meaning -?\d\.\d\d(, words)?\]$", ln) for ln in res.stdout.splitlines()
               if not ln.startswith("    ")), res.stdout


def test_meaning_reads_one_vector_file_kept_current(five):
    """The vectors are scored from one matrix file beside the index: kept while nothing is added,
    rebuilt when new sentences are embedded (a new interview is found by meaning at once)."""
    first = find(five, "too pricey", meaning=True, limit=3).hits
    (matrix,) = [p for p in (five / ".ivp").glob("vectors-*.npy") if not p.name.endswith((".ids.npy", ".scale.npy"))]
    stamp = matrix.stat().st_mtime_ns
    again = find(five, "too pricey", meaning=True, limit=3).hits
    assert [(h.doc, h.text, h.score) for h in again] == [(h.doc, h.text, h.score) for h in first]
    assert matrix.stat().st_mtime_ns == stamp  # read, not written again
    lines = script_for("2024-03-15 eve")
    lines[5] = (EE, "Paying for the licence is far too costly for us now.")
    add_interview(five, "2024-03-20 fay", lines)
    found = find(five, "a costly licence", meaning=True, limit=3).hits
    assert found[0].text == "Paying for the licence is far too costly for us now." and found[0].score > 0.5
    assert matrix.stat().st_mtime_ns != stamp
