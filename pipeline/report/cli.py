"""``ivp report`` (registered on the ``ivp`` group in :mod:`pipeline.cli`)."""
from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

import click

from ..recording import display
from .build import build


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the report here (default: DIR/ivp-report).")
@click.option("--open", "open_browser", is_flag=True, help="Open the overview in the web browser.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def report(paths, out_dir, open_browser, quiet) -> None:
    """Build a static HTML report from the sidecars found under PATHS (folders or sidecar files).

    The report works offline; keep its folder next to the recordings (or copy them together) so
    that the pages can play them.
    """
    result = build(list(paths), out_dir)
    for path in result.missing:
        click.echo(f"error: {display(path)}: input: no such file or folder", err=True)
    for s in result.skipped:
        click.echo(f"warning: {display(s.path)}: skipped: {s.reason}", err=True)
    if not result.entries:
        click.echo("error: no interview sidecars (*.interview.json) found; run `ivp process` first",
                   err=True)
    elif not quiet:
        n = len(result.entries)
        click.echo(f"report: {n} interview{'' if n == 1 else 's'} -> {result.index}")
        if (result.index.parent / "study.html").is_file():  # themes, search, progress (pipeline.study)
            click.echo(f"study: {result.index.parent / 'study.html'}")
    if open_browser and result.entries:
        webbrowser.open(result.index.resolve().as_uri())
    sys.exit(1 if result.missing or not result.entries else 0)
