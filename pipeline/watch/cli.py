"""``ivp watch DIR`` and ``ivp status DIR`` (registered on the ``ivp`` group in :mod:`pipeline.cli`)."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli_options import make_ray_executor, model_options, out_option, ray_options
from pipeline.errors import PipelineError
from pipeline.metrics import share_text
from pipeline.recording import display
from pipeline.timefmt import clock
from pipeline.watch.options import RANGES, WatchOptions, default
from pipeline.watch.lock import WatcherBusy
from pipeline.watch.status import folder_status
from pipeline.watch.watcher import Watcher


def _range(name: str) -> click.ParamType:
    """The CLI's range of a :class:`WatchOptions` knob: the one in :data:`RANGES`."""
    low, high = RANGES[name]
    return click.IntRange(low, high) if isinstance(low, int) else click.FloatRange(low, high)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@out_option("Write sidecars here (mirroring subfolders) instead of next to each recording.")
@click.option("--workers", type=_range("workers"), default=default("workers"), show_default=True,
              help="Files processed at the same time (each worker loads its own models).")
@click.option("--poll", is_flag=True,
              help="Poll the folder instead of using file-system events (network shares, WSL).")
@click.option("--settle", "settle_s", type=_range("settle_s"), default=default("settle_s"), show_default=True,
              help="Seconds a file's size and mtime must stay unchanged before it is processed.")
@click.option("--max-attempts", type=_range("max_attempts"), default=default("max_attempts"), show_default=True,
              help="Tries per file before it is marked failed.")
@click.option("--retry-delay", "retry_delay_s", type=_range("retry_delay_s"), default=default("retry_delay_s"),
              show_default=True, help="Seconds before the first retry (doubling after each).")
@click.option("--rescan", "rescan_s", type=_range("rescan_s"), default=default("rescan_s"), show_default=True,
              help="Seconds between full rescans (a safety net for missed events).")
@click.option("--retry-failed", is_flag=True, help="Try files that failed before again.")
@click.option("--once", is_flag=True, help="Process what is there (and settles), then exit.")
@model_options
@click.option("--report/--no-report", default=default("report"), show_default=True,
              help="Keep an HTML report (ivp-report/ in the output folder) up to date.")
@click.option("--follow-links", is_flag=True,
              help="Also process symbolic links that point outside FOLDER (not followed by default).")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("--verbose", "-v", is_flag=True, help="Debug lines on stderr too.")
@ray_options
def watch(folder, out_dir, workers, poll, settle_s, max_attempts, retry_delay_s, rescan_s,
          retry_failed, once, overrides, report, follow_links, quiet, verbose, ray_address=None,
          ray_workers=None, ray_shared_fs=False) -> None:
    """Process every recording in FOLDER (recursively) exactly once, and keep watching it.

    Files are picked up once they stop changing (--settle) and ffprobe can read them. State,
    cache and log live in FOLDER/.ivp/; stop with Ctrl-C or SIGTERM (it resumes where it
    stopped). `ivp status FOLDER` shows where everything stands.
    """
    executor = None
    try:
        executor = make_ray_executor(ray_address, ray_workers, ray_shared_fs, overrides["device"], log=lambda m:
                                     logging.getLogger("ivp.watch").warning(f"{'ray':<10} {m}"))
        if executor is not None:  # one watcher worker per Ray worker: they only wait on the cluster
            workers = max(workers, executor.size)
        options = WatchOptions(workers=workers, settle_s=settle_s, poll=poll,
                               max_attempts=max_attempts, retry_delay_s=retry_delay_s,
                               rescan_s=rescan_s, once=once, retry_failed=retry_failed,
                               quiet=quiet, verbose=verbose, report=report, follow_links=follow_links)
        watcher = Watcher(folder, overrides=overrides, out_dir=out_dir, options=options,
                          executor=executor)
        watcher.run()
    except WatcherBusy as exc:
        click.echo(f"error: {display(exc)}", err=True)
        sys.exit(2)
    except PipelineError as exc:  # a bad flag, a Ray cluster that cannot be used
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(2)
    except (OSError, ValueError, sqlite3.Error) as exc:  # unwritable folder at start-up
        click.echo(f"error: {display(folder)}: {display(' '.join(str(exc).split()))}", err=True)
        sys.exit(2)
    finally:
        if executor is not None:
            executor.close()
    if watcher.workers_alive:  # a model call that cannot be interrupted: the ledger is safe
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON (for scripts).")
def status(folder, as_json) -> None:
    """Show what the watcher did in FOLDER: counts and one line per recording."""
    data = folder_status(folder)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    watcher = data["watcher"]
    click.echo(f"{display(data['folder'])}: " + (f"watcher running (pid {watcher['pid']})"
                                                 if watcher["running"] else "no watcher running"))
    if data.get("damaged"):
        click.echo(f"error: {display(data['damaged'])}", err=True)
        sys.exit(1)
    if not data["counts"]:
        click.echo("never watched (no .ivp/state.db); start with: ivp watch " + display(folder))
        return
    counts = data["counts"]
    parts = [f"{v} {k}" for k, v in counts.items() if k != "files" and v]
    click.echo(f"{counts['files']} recording(s)" + (": " + ", ".join(parts) if parts else ""))
    if not data["files"]:
        return
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("file", overflow="fold")
    table.add_column("state")
    table.add_column("duration", justify="right")
    table.add_column("interviewee", justify="right")
    table.add_column("note", overflow="fold")
    for f in data["files"]:
        share = f["interviewee_share"]
        note = f["error"] or ""
        if f["duplicate_of"]:
            note = f"same as {f['duplicate_of']}" + (f"; {note}" if note else "")
        elif f["warnings"] and not note:
            # a role problem (and its fixing command) or a hand fix comes before other warnings
            note = next((w for w in f["warnings"] if "ivp roles" in w), f["warnings"][0])
        if f["stage"] and f["error"]:
            note = f"{f['stage']}: {note}"
        table.add_row(Text(display(f["path"])), f["state"], clock(f["duration_s"]),
                      share_text(share), Text(display(note)))
    width = max(100, shutil.get_terminal_size((120, 20)).columns)
    Console(width=width, soft_wrap=False, highlight=False).print(table)

