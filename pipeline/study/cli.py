"""``ivp study`` and ``ivp search`` (registered on the ``ivp`` group in :mod:`pipeline.cli`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import PipelineError
from ..interview import INTERVIEWEE, ROLES
from ..recording import display, guard
from ..timefmt import player_clock as clock
from ..sidecar import json_text
from ..config import comma_list
from . import index as idx
from . import reel
from .build import build_study
from .query import QueryError
from .search import find


def _folder(folder: Path) -> None:
    if not folder.is_dir():
        click.echo(f"error: {display(folder)}: input: no such folder", err=True)
        sys.exit(1)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write study.json and progress.csv here (default: FOLDER/ivp-study).")
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@click.option("--json", "as_json", is_flag=True, help="Print study.json.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
def study(folder, out_dir, force, as_json, quiet) -> None:
    """Themes, quote bank and the interviewer's progress across every sidecar under FOLDER.

    Edit FOLDER/study.toml to rename, merge or hide themes (see docs/study.md); the next build
    keeps those edits.
    """
    _folder(folder)
    result = build_study(folder, out_dir, force=force)
    data = result.data
    for w in data.get("warnings", []):
        click.echo(f"warning: {w}", err=True)
    if not data["interviews"]:
        click.echo("error: no interview sidecars (*.interview.json) found; run `ivp process` first", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json_text(data, indent=1))
        return
    if quiet:
        return
    n = len(data["interviews"])
    click.echo(f"study: {n} interview{'' if n == 1 else 's'}, {len(data['themes'])} themes -> {result.json_path}"
               + ("" if result.rebuilt else " (unchanged)"))
    if data.get("note"):
        click.echo(data["note"])
    for t in data["themes"]:
        click.echo(f"  {t['id']}  {t['name']}: {t['n_interviews']} of {n} interviews, {len(t['quotes'])} quotes")


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("query")
@click.option("--role", type=click.Choice(list(ROLES)), help="Only what this role said (as role:... in the query).")
@click.option("--meaning", is_flag=True,
              help="Rank sentences by closeness in meaning (sentence embeddings), not by the words themselves.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many hits (by meaning: 20 unless given).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search(folder, query, role, meaning, limit, as_json) -> None:
    """Find sentences in every transcript under FOLDER: recording, time, who, the sentence.

    \b
    QUERY syntax (docs/study.md):
      spreadsheet export    both words (any form: "exports", "exported")
      "by hand"             the phrase
      spread*               words starting with "spread"
      export OR report      either word
      report -spreadsheet   leave out sentences with "spreadsheet" (also: NOT spreadsheet)
      role:interviewee  theme:ID-or-name  tag:workaround    filters
    A query that starts with "-" goes after --: ivp search FOLDER -- "-x y"

    Exit status: 0 hits found, 1 none, 2 a query that cannot be read."""
    _folder(folder)
    try:
        found = find(folder, query, role=role, limit=limit, meaning=meaning,
                     note=None if as_json else lambda line: click.echo(line, err=True))
    except QueryError as exc:
        click.echo(f"error: query: {exc}", err=True)
        sys.exit(2)
    except PipelineError as exc:  # no embedding model, an unwritable study
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(1)
    hits = found.hits
    for w in found.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        click.echo(json_text([dict(h.to_dict(), link=link(h)) for h in hits], indent=1))
    else:
        for h in hits:
            also = f" (copies: {', '.join(map(display, h.copies))})" if h.copies else ""
            score = (f"  [meaning {h.score:.2f}{', words' if h.word_match else ''}]"  # the order fuses both
                     if h.score is not None else "")
            who = f"{h.speaker_name} ({h.role or h.speaker})" if h.speaker_name else h.role or h.speaker or "?"
            click.echo(f"{display(h.doc)}{also}  {clock(h.time)}  {display(who)}: {display(h.text)}{score}")
            around = [f"{k}: {display(v)}" for k, v in (("before", h.before), ("after", h.after)) if v]
            if around:
                click.echo("    " + "  |  ".join(around))
        click.echo(f"{len(hits)} hit{'' if len(hits) == 1 else 's'}", err=True)
    sys.exit(0 if hits else 1)


def link(hit) -> str:
    """The moment as a link: the recording's file URI with a media fragment (``#t=83.5``)."""
    rec = Path(hit.recording)
    return (rec.as_uri() if rec.is_absolute() else rec.as_posix()) + f"#t={hit.time:g}"


def export_reel(paths, formats, theme_key, query, top, out_dir, as_json, quiet) -> int:
    """``ivp export FOLDER --reel THEME | --reel-query TEXT --format ...``: the exit status."""
    names = comma_list(formats, lower=True)
    bad = [n for n in names if n not in reel.FORMATS]
    if bad or not names:
        click.echo(f"error: reel formats are {', '.join(reel.FORMATS)} (not {', '.join(bad) or 'none'})", err=True)
        return 2
    if len(paths) != 1 or not Path(paths[0]).is_dir():
        click.echo("error: a reel is made from one study folder: ivp export FOLDER --reel THEME", err=True)
        return 2
    folder = Path(paths[0])
    result = build_study(folder)
    with idx.Index(idx.db_path(folder)) as index:
        if theme_key:
            theme = result.theme(theme_key)
            if theme is None:
                known = "; ".join(f"{t['id']} {t['name']}" for t in result.data["themes"]) or "none yet"
                click.echo(f"error: no theme {theme_key!r} in {display(folder)} (themes: {display(known)})", err=True)
                return 1
            title, quotes = theme["name"], theme["quotes"]
        else:  # what interviewees said (a sentence of unknown role is no one's quote)
            try:
                hits = index.search(query)
            except QueryError as exc:
                click.echo(f"error: query: {exc}", err=True)
                return 2
            title, quotes = query, [h.to_dict() for h in hits if h.role == INTERVIEWEE]
        if not quotes:
            why = "the theme has no quotes" if theme_key else "no interviewee sentence matches (ivp search shows every role)"
            click.echo(f"error: nothing to put in the reel for {theme_key or query!r}: {why}", err=True)
            return 1
        wanted = {q.get("interview") or q.get("doc") for q in quotes}
        speech = {d["name"]: reel.Speech(index.speech(i)) for i, d in index.docs().items() if d["name"] in wanted}
    clips = reel.plan(quotes, result.data["interviews"], lambda name: speech.get(name, reel.Speech()), top)
    try:
        reels = guard.folder(Path(out_dir) if out_dir else result.out / "reels", Path(out_dir) if out_dir else folder)
        written = reel.write_reel(clips, title, reels, names)
    except PipelineError as exc:
        click.echo(f"error: {exc.line()}", err=True)
        return 1
    if as_json:
        click.echo(json.dumps({"reel": title, "clips": len(clips), "files": [str(p) for p in written]}, indent=2))
    elif not quiet:
        for p in written:
            click.echo(display(p))
    return 0
