"""``ivp roles`` (show, fix or decide roles from sidecars) and ``ivp voice`` (the voice library)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Optional

import click

from . import metrics, produce, schemas, sidecar, voicelib
from .recording.outputs import atomic_write_text
from .cli_options import speakers_option
from .errors import OutputError, PipelineError, SidecarError
from .export import WRITERS, write_exports
from .report import fresh
from .interview import INTERVIEWEE, ROLES, Interview
from .recording import display, guard
from .recording.cache import StageCache, default_dir as cache_dir_for
from .stages import relabel, voices
from .stages.decode import decode, probe, sha256_file
from .stages.diarize import prints
from .stages.diarize.speakers import Embedded, stored_in
from .recording.discover import STATE_DIR
from .watch import DB_NAME
from .watch.ledger import Ledger


def resolve_sidecar(target: Path) -> Path:
    """A sidecar path itself, or the sidecar beside a recording."""
    if target.name.endswith(sidecar.SUFFIX):
        return target
    return sidecar.sidecar_path(target)


def existing_exports(path: Path) -> list[str]:
    """The export formats already written beside a sidecar (they are rewritten after a fix)."""
    stem = path.name[: -len(sidecar.SUFFIX)]
    return [name for name, w in WRITERS.items()
            if name != "clips" and (path.parent / f"{stem}{w.suffix}").is_file()]


def write_fixed(interview: Interview, path: Path) -> None:
    """Write a sidecar whose transcript came from a valid one: the schema is checked on every
    part but the long lists, which are checked on a sample (a full check of an hour's words
    takes seconds)."""
    data = interview.to_dict()
    sample = {k: (v[:20] + v[-20:] if isinstance(v, list) else v) for k, v in data.items()}
    error = schemas.first_error("interview", sample)
    if error is not None:
        raise error
    try:
        atomic_write_text(path, sidecar.dumps(data))
    except OSError as exc:  # a full disk, a read-only folder: the write failed, not the read
        raise OutputError(str(path), f"cannot write the fixed sidecar: {exc.strerror or exc} "
                                     "(the sidecar is as it was)") from exc


def tell_watcher(interview: Interview) -> Optional[Path]:
    """Update the watched folder's ledger (if the recording lies in one) so ``ivp status`` shows
    the fixed numbers and that the roles were fixed by hand; returns the ledger's path."""
    here = Path(interview.source.path).parent
    for folder in (here, *here.parents):
        db = folder / STATE_DIR / DB_NAME
        if db.is_file():
            break
    else:
        return None
    ratio, note = interview.talk_ratio, voices.fixed_note(interview)
    try:
        ledger = Ledger(db)
        try:
            ledger.set_result(interview.source.sha256, ratio.interviewee_share if ratio else None,
                              ratio.verdict if ratio else None,
                              [n for n in (note, *interview.warnings) if n])
        finally:
            ledger.close()
    except Exception:  # the sidecar is the record; the ledger catches up on the next run
        return None
    return db


def stored_embeddings(interview: Interview, path: Path) -> Optional[Embedded]:
    """The window embeddings diarization kept in a stage cache (``.ivp/cache`` beside the sidecar,
    the recording or a folder above either), or None."""
    sha = interview.source.sha256 if interview.source else None
    if not sha:
        return None
    starts = [path.resolve().parent]
    if interview.source.path:
        starts.append(Path(interview.source.path).resolve().parent)
    seen = set()
    for start in starts:
        for folder in (start, *start.parents):
            if folder in seen:
                continue
            seen.add(folder)
            found = stored_in(StageCache(cache_dir_for(folder)), sha)
            if found is not None:
                return found
    return None


def fix_roles(path: Path, interviewer: Optional[str] = None, swap: bool = False,
              sides: Optional[dict[str, str]] = None, speakers: Optional[int] = None) -> Interview:
    """Rewrite one sidecar (and its exports) with the user's fix: the lead interviewer, a side per
    speaker, or the number of people (clustered again from the stored embeddings). The read and the
    write hold the sidecar folder's lock, so a run writing the same sidecar never interleaves."""
    with sidecar.locked(path):
        return _fix_roles(path, interviewer, swap, sides, speakers)


def _fix_roles(path: Path, interviewer: Optional[str], swap: bool, sides: Optional[dict[str, str]],
               speakers: Optional[int]) -> Interview:
    interview = sidecar.read(path, edits=False)  # the edits stay a layer, never written in
    if swap:
        r = interview.roles
        if not r or not r.interviewee:
            raise click.ClickException(f"{path}: no interviewee to swap with")
        interviewer = r.interviewee
    try:
        if speakers is not None:
            embedded = stored_embeddings(interview, path)
            if embedded is None:
                raise click.ClickException(
                    f"{path}: no stored speaker embeddings for this recording (its .ivp cache was removed, or "
                    f"it was processed by an older ivp or another diarizer); run: ivp process RECORDING "
                    f"--speakers {speakers or 'auto'} --force")
            relabel.apply(interview, voices.recount(interview, embedded, speakers))
        if interviewer is not None or sides:
            relabel.apply(interview, voices.set_override(interview, interviewer, sides))
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}")
    write_fixed(interview, path)
    tell_watcher(interview)
    sidecar.with_edits(interview, path)  # the exports and the summary show the names and corrections
    formats = existing_exports(path)
    if formats:
        write_exports(interview, path, formats)
    return interview


def describe(interview: Interview, path: Path) -> str:
    r = interview.roles
    lines = [display(path)]
    if r is None:
        return lines[0] + "\n  roles: none"
    lines.append(f"  roles: {metrics.roles_sentence(interview) or 'none'}")
    for speaker in sorted({t.speaker for t in interview.turns}):
        words = " ".join(s.text for s in interview.segments if s.speaker == speaker).split()
        first = min((t.start for t in interview.turns if t.speaker == speaker), default=0.0)
        sample = " ".join(words[:14]) + (" ..." if len(words) > 14 else "")
        named = f" {interview.name_of(speaker)!r}" if interview.name_of(speaker) else ""
        lines.append(f"  {speaker}{named} ({interview.role_of(speaker) or 'no role'}, first at {first:.1f}s): {sample!r}")
    for w in interview.warnings:
        lines.append(f"  warning: {display(w)}")
    return "\n".join(lines)


def _side(ctx, param, values) -> dict[str, str]:
    """``--role S3=interviewer`` (repeatable) as {speaker: role}."""
    out = {}
    for value in values:
        speaker, _, role = value.partition("=")
        role = {"participant": INTERVIEWEE}.get(role.strip().lower(), role.strip().lower())
        if not speaker.strip() or role not in ROLES:
            raise click.BadParameter(f"{value!r}: SPEAKER=interviewer or SPEAKER=interviewee", ctx, param)
        out[speaker.strip()] = role
    return out


@click.command("roles")
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--interviewer", help="Make this speaker id (e.g. S2) the (lead) interviewer.")
@click.option("--swap", is_flag=True, help="Swap interviewer and interviewee (two people).")
@click.option("--role", "sides", multiple=True, callback=_side, metavar="S=ROLE",
              help="Put speaker S on a side: S3=interviewer (a note taker) or S3=interviewee. Repeatable.")
@click.option("--speakers", callback=speakers_option, metavar="N|auto",
              help="Cluster the stored voice embeddings again into N people (no transcription).")
@click.option("--json", "as_json", is_flag=True, help="Print the roles as JSON.")
def roles_command(targets, interviewer, swap, sides, speakers, as_json) -> None:
    """Show, fix or decide roles from existing sidecars, without transcribing again.

    RECORDING or SIDECAR with --interviewer S1, --swap, --role S3=interviewer or --speakers N:
    rewrite that sidecar and its exports (the fix is kept by later runs). A FOLDER: decide roles
    across its sidecars by the recurring voice. Alone: show the roles, each speaker's first words
    and the evidence.
    """
    if interviewer and swap:
        raise click.UsageError("use --interviewer or --swap, not both")
    fixing = bool(interviewer or swap or sides or speakers is not None)
    folders = [t for t in targets if t.is_dir()]
    if folders and fixing:
        raise click.UsageError("--interviewer, --swap, --role and --speakers fix one recording; "
                               "a folder is decided by voice")
    out, failed = [], False
    for target in targets:
        if target.is_dir():
            found, _ = sidecar.find_sidecars(target)
            if not found:
                click.echo(f"error: {display(target)}: no sidecars (run ivp process first)", err=True)
                sys.exit(1)
            skipped: list[SidecarError] = []
            changes = produce.decide_folder_roles(found, skipped)
            for exc in skipped:  # damaged or from a newer ivp: one line each, left as they are
                click.echo(f"error: {exc.line()}", err=True)
                failed = True
            told = [(c, metrics.roles_change_sentence(c)) for c in changes]
            for c, sentence in told:
                if sentence and not as_json:  # a new confidence alone is no change to tell
                    click.echo(f"{display(c['sidecar'])}: {sentence}")
            if not any(sentence for _, sentence in told) and not as_json:
                click.echo(f"{display(target)}: {len(found) - len(skipped)} sidecars, roles unchanged")
            out += [{"sidecar": c["sidecar"], "interviewer": c["after"], "method": c["method"],
                     "confidence": c["confidence"], "by_speaker": dict(c["interview"].roles.by_speaker or {})}
                    for c in changes]
            continue
        path = resolve_sidecar(target)
        if not path.is_file():
            click.echo(f"error: {display(target)}: no sidecar at {display(path)} (run ivp process first)", err=True)
            sys.exit(1)
        try:
            interview = fix_roles(path, interviewer, swap, sides, speakers) if fixing else sidecar.read(path)
        except PipelineError as exc:  # a bad sidecar, or the fix could not be written: its own line
            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(1)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            trouble = guard.trouble(exc)
            what = f"output: {trouble.reason}" if trouble else f"cannot read sidecar: {' '.join(str(exc).split())}"
            click.echo(f"error: {display(path)}: {what}", err=True)
            sys.exit(1)
        r = interview.roles
        out.append({"sidecar": str(path), "interviewer": r.interviewer if r else None,
                    "by_speaker": dict(r.by_speaker) if r else {},
                    "method": r.method if r else None, "confidence": r.confidence if r else None})
        if not as_json:
            click.echo(describe(interview, path))
        if fixing:
            for line in fresh.refresh(path):  # the static report pages that show it
                click.echo(line, err=line.startswith("warning"))
    if as_json:
        click.echo(json.dumps(out, indent=2))
    if failed:
        sys.exit(1)


@click.group("voice")
def voice_group() -> None:
    """Enrolled voices (an interviewer's voiceprint decides their role in any recording)."""


@voice_group.command("enroll")
@click.argument("name")
@click.argument("recording", type=click.Path(exists=True, path_type=Path))
@click.option("--speaker", help="The speaker id in the recording's sidecar (e.g. S1).")
@click.option("--start", type=float, help="Start of a stretch of only this voice, seconds.")
@click.option("--end", type=float, help="End of that stretch, seconds.")
def enroll(name, recording, speaker, start, end) -> None:
    """Store NAME's voiceprint from RECORDING (a speaker of its sidecar, or --start/--end)."""
    if (speaker is None) == (start is None or end is None):
        raise click.UsageError("give --speaker S, or --start T --end T")
    if start is not None and not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
        raise click.UsageError(f"--start {start} --end {end}: seconds from the start of the recording, "
                               f"0 <= start < end")
    try:
        voicelib.check_name(name)
        if speaker:
            path = resolve_sidecar(recording)
            if not path.is_file():
                raise click.ClickException(f"{recording}: no sidecar (run ivp process first, or use --start/--end)")
            interview = sidecar.read(path)
            voice = next((v for v in interview.voices if v.speaker == speaker), None)
            if voice is None:
                raise click.ClickException(f"{path}: no voiceprint for {speaker!r} "
                                           f"(has: {', '.join(v.speaker for v in interview.voices) or 'none'})")
            source = {"recording": interview.source.path, "sha256": interview.source.sha256, "speaker": speaker}
        else:
            if end - start < 4.0:
                raise click.UsageError("give at least 4 s of speech (10 s or more is better)")
            rec = probe(recording, sha256_file(recording))
            audio = decode(recording, rec)
            if end > audio.duration:  # --end 1e9: never the whole recording (with every voice) unawares
                if audio.duration - start < 4.0:
                    raise click.UsageError(f"--start {start} --end {end}: the recording is {audio.duration:.1f} s "
                                           f"long; give at least 4 s of speech inside it")
                click.echo(f"warning: --end {end} is past the end of the recording; enrolling "
                           f"{start:g}-{audio.duration:.1f} s: make sure only {name} speaks there", err=True)
                end = audio.duration
            voice = prints.embed_spans(audio.mono, [(start, end)], name)
            if voice is None:
                raise click.ClickException(f"{recording}: no speech between {start} and {end} s")
            source = {"recording": str(recording), "sha256": rec.sha256, "start": start, "end": end}
        saved = voicelib.save(name, voice, source)
    except PipelineError as exc:
        raise click.ClickException(exc.line())
    click.echo(f"enrolled {name!r} ({voice.seconds:.0f} s of speech) -> {saved}")
    if voice.seconds < 10:
        click.echo("warning: under 10 s of speech; a longer stretch gives a more reliable print", err=True)


@voice_group.command("list")
def list_voices() -> None:
    """List enrolled voices."""
    entries = voicelib.entries()
    if not entries:
        click.echo(f"no enrolled voices in {voicelib.library_dir()}")
    for e in entries:
        src = e.get("source", {})
        where = src.get("speaker") or f"{src.get('start')}-{src.get('end')} s"
        click.echo(f"{e['name']}: {e.get('seconds', 0):.0f} s of speech from {src.get('recording')} ({where}), "
                   f"enrolled {e.get('enrolled')}")


@voice_group.command("remove")
@click.argument("name")
def remove_voice(name) -> None:
    """Remove an enrolled voice."""
    try:
        removed = voicelib.remove(name)
    except PipelineError as exc:
        raise click.ClickException(exc.line())
    if removed is None:
        raise click.ClickException(f"no enrolled voice {name!r}")
    click.echo(f"removed {name!r} ({removed})")
