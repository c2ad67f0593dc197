"""``ivp export`` and ``ivp mark``, registered on the ``ivp`` command group."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click

from .. import sidecar as sidecars
from ..errors import PipelineError, SidecarError
from ..recording import display, markers
from ..stages import moments
from ..report import fresh
from ..study import qdpx
from ..study.cli import export_reel
from ..config import comma_list
from . import WRITERS, parse_formats, parse_kinds, write_exports
from .base import ExportJob
from .moment import write_moment


@click.command("export")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="SIDECAR...")
@click.option("--format", "-f", "formats", multiple=True,
              help=f"Export format(s), comma-separated or repeated: {', '.join(WRITERS)}; "
                   "or qdpx: one REFI-QDA project of a FOLDER (MAXQDA, NVivo, ATLAS.ti).")
@click.option("--kinds", help="Only these moment kinds or groups (bookmarks, highlights, coaching, all), "
                              "comma-separated. Default: every kind; chapters, youtube and clips: "
                              "bookmarks and highlights.")
@click.option("--top", type=click.IntRange(min=1), help="Only the N best moments by score.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write here instead of next to each sidecar.")
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--reel", "reel_theme", metavar="THEME", help="A highlight reel of a study theme (id or name) "
              "across the recordings in FOLDER: fcpxml, premiere, edl, clips (see ivp study).")
@click.option("--reel-query", metavar="TEXT", help="A highlight reel of what interviewees said matching TEXT.")
@click.option("--moment", "moment_at", metavar="T", help="One moment (seconds or 1:23) of one RECORDING as a "
              "self-contained HTML page with its audio (video: MP4) and transcript, to send to someone.")
def export(paths, formats, kinds, top, out_dir, as_json, quiet, reel_theme=None, reel_query=None,
           moment_at=None) -> None:
    """Write subtitles, chapters, editor markers or clips from sidecars (or folders of them)."""
    if moment_at is not None:
        sys.exit(export_moment(paths, moment_at, out_dir, as_json, quiet))
    if not formats:
        raise click.UsageError("give --format (or --moment T, or --reel THEME)")
    if reel_theme is not None or reel_query is not None:
        if reel_theme is not None and reel_query is not None:
            raise click.UsageError("--reel THEME or --reel-query TEXT, not both")
        if not (reel_theme if reel_theme is not None else reel_query).strip():
            raise click.BadParameter("give a theme id or name (see ivp study)" if reel_theme is not None
                                     else "give the words to look for",
                                     param_hint="--reel" if reel_theme is not None else "--reel-query")
        sys.exit(export_reel(paths, formats, reel_theme, reel_query, top, out_dir, as_json, quiet))
    asked = comma_list(formats, lower=True)
    if "qdpx" in asked:
        sys.exit(export_qdpx(paths, asked, out_dir, as_json, quiet))
    try:
        names = parse_formats(formats)
        parse_kinds(kinds)
    except PipelineError as exc:
        raise click.BadParameter(exc.reason) from None
    files, missing = targets(paths, out_dir)
    for path in missing:
        click.echo(f"error: {display(path)}: input: no such file or folder", err=True)
    if not files and not missing:
        click.echo("error: no sidecars (*.interview.json) found in the given paths", err=True)
        sys.exit(1)
    failed, report = bool(missing), []
    claimed: dict[Path, Path] = {}  # output folder / stem -> the sidecar that writes there
    for path, folder, root, tree in files:
        key = (folder or path.parent).resolve() / path.name
        if key in claimed:  # two sidecars of one name into one folder: never replace one's exports
            click.echo(f"error: {display(path)}: export: its exports would replace those of "
                       f"{display(claimed[key])} in {display(folder or path.parent)}; export them separately",
                       err=True)
            failed = True
            continue
        claimed[key] = path
        try:
            interview = sidecars.read(path)
        except SidecarError as exc:  # one line, and the other sidecars are exported
            click.echo(f"error: {exc.line()}", err=True)
            failed = True
            continue
        try:
            written = write_exports(interview, path, names, folder, kinds, top, root=root, tree=tree)
        except PipelineError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            failed = True
            continue
        report.append({"sidecar": str(path), "files": [str(p) for p in written]})
        if not quiet and not as_json:
            for p in written:
                click.echo(display(p))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    sys.exit(1 if failed else 0)


def export_moment(paths, moment_at: str, out_dir: Optional[Path], as_json: bool, quiet: bool) -> int:
    """``ivp export RECORDING --moment T``: the exit status."""
    if len(paths) != 1:
        raise click.UsageError("--moment takes one RECORDING (or its sidecar)")
    try:
        t = markers.parse_time(moment_at)
    except ValueError as exc:
        raise click.BadParameter(f"{moment_at!r}: {exc}", param_hint="--moment") from None
    target = Path(paths[0])
    side = target if target.name.endswith(sidecars.SUFFIX) else sidecars.sidecar_path(target)
    try:
        interview = sidecars.read(side)  # with the person's edits: names, corrected words, tags
        page = write_moment(ExportJob(interview, side, Path(out_dir) if out_dir else side.parent), t)
    except PipelineError as exc:
        click.echo(f"error: {exc.line()}", err=True)
        return 1
    if as_json:
        click.echo(json.dumps({"sidecar": str(side), "files": [str(page)]}, indent=2))
    elif not quiet:
        click.echo(display(page))
    return 0


def export_qdpx(paths, names: list[str], out_dir: Optional[Path], as_json: bool, quiet: bool) -> int:
    """``ivp export FOLDER --format qdpx``: the exit status."""
    if set(names) != {"qdpx"}:
        click.echo("error: qdpx is one project for a whole folder: export it on its own (--format qdpx)", err=True)
        return 2
    if len(paths) != 1 or not Path(paths[0]).is_dir():
        click.echo("error: a REFI-QDA project is made from one folder: ivp export FOLDER --format qdpx", err=True)
        return 2
    try:
        path, warnings = qdpx.write_project(Path(paths[0]), out_dir)
    except PipelineError as exc:
        click.echo(f"error: {exc.line()}", err=True)
        return 1
    except OSError as exc:
        click.echo(f"error: {display(paths[0])}: export: qdpx: {exc.strerror or exc}", err=True)
        return 1
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        click.echo(json.dumps({"project": str(path), "warnings": warnings}, indent=2))
    elif not quiet:
        click.echo(display(path))
    return 0


def targets(paths, out_dir: Optional[Path]) -> tuple[list[tuple[Path, Optional[Path], Path, Path]], list[Path]]:
    """(sidecar, output folder or None for beside it, the root no output may leave, the folder
    exported) for each sidecar in ``paths``, and the paths that do not exist. With ``out_dir``, a
    folder's sidecars keep their subfolders under it (``a/x`` and ``b/x`` write ``DIR/a/x.srt`` and
    ``DIR/b/x.srt``); the root is ``out_dir``, else the folder exported (the folder given; for a
    sidecar given as a file, its folder)."""
    found: list[tuple[Path, Optional[Path], Path, Path]] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for src in map(Path, paths):
        files, gone = sidecars.find_sidecars(src)
        missing += gone
        for path in files:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            folder = None
            if out_dir is not None:
                folder = Path(out_dir) / path.parent.relative_to(src) if src.is_dir() else Path(out_dir)
            tree = src if src.is_dir() else path.parent
            found.append((path, folder, Path(out_dir) if out_dir is not None else tree, tree))
    return found, missing


@click.command()
@click.argument("recording", type=click.Path(path_type=Path))
@click.argument("time", required=False)
@click.argument("label", nargs=-1)
@click.option("--sidecar", "sidecar_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The sidecar to refresh (default: <stem>.interview.json beside the recording, or in --out).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The folder the sidecars were written to (as given to ivp process --out).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
def mark(recording: Path, time: Optional[str], label: tuple[str, ...], sidecar_file, out_dir, quiet) -> None:
    """Add a mark at TIME (hh:mm:ss, mm:ss, hh:mm:ss.mmm or seconds) with an optional LABEL to
    RECORDING's marker file, then refresh the moments in its sidecar without transcribing again.
    Without TIME, only refresh (after editing the marker file by hand)."""
    if not recording.is_file():
        click.echo(f"error: {display(recording)}: input: no such file", err=True)
        sys.exit(1)
    if time is not None:
        try:
            seconds = markers.parse_time(time)
        except ValueError as exc:
            raise click.BadParameter(f"{time!r}: {exc}", param_hint="TIME") from None
        text = " ".join(label)
        marks_file = markers.append_mark(recording, seconds, text)
        if not quiet:
            click.echo(f"marked {markers.format_time(seconds)}{' ' + repr(text) if text else ''} in {display(marks_file)}")
    target = sidecar_file or (sidecars.sidecar_in_out(recording, out_dir) if out_dir
                               else sidecars.sidecar_path(recording))
    if not target.is_file():
        if not quiet:
            click.echo(f"no sidecar yet ({display(target)}): the marks are used when you run ivp process {display(recording)}")
        return
    try:
        interview = sidecars.read(target, edits=False)
    except SidecarError as exc:  # damaged, or from a newer ivp: left as it is
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(1)
    try:
        with sidecars.locked(target):  # the newest sidecar: a run or an ivp roles fix may have written it
            interview = sidecars.read(target, edits=False)  # the edits stay a layer (pipeline.edits)
            problems = moments.refresh_moments(interview, recording=recording)
            sidecars.write(interview, target)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = getattr(exc, "strerror", None) or " ".join(str(exc).split())
        click.echo(f"error: {display(target)}: mark: cannot update the sidecar: {why} (it is as it was)", err=True)
        sys.exit(1)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if not quiet:
        n = sum(1 for m in interview.moments if m.source == "marker_file")
        click.echo(f"{display(target)}: {len(interview.moments)} moments ({n} from the marker file)")
    for line in fresh.refresh(target):  # the static report pages that show it
        if not quiet or line.startswith("warning"):
            click.echo(line, err=line.startswith("warning"))
