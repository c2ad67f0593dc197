"""The command line agrees with the settings it sets: every choice, range and shown default of
``ivp process`` and ``ivp watch`` is the one in ``config.BOUNDS`` / ``QUALITY`` / ``Config`` and
``watch.options`` (as faster-whisper tests that its two transcribe signatures match)."""
from __future__ import annotations

import inspect
from dataclasses import fields

import click
import pytest

from pipeline.cli import process
from pipeline.config import BOUNDS, QUALITY, Config
from pipeline.watch.cli import watch
from pipeline.watch.options import RANGES, WatchOptions
from pipeline.watch.worker import Worker

# a CLI parameter whose name is not its Config field's
CONFIG_NAME = {"min_silence": "min_silence_s"}


def _params(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params if isinstance(p, click.Option)}


def _defaults(command: click.Command, folder) -> dict:
    """What ``command FOLDER`` receives for each parameter when no option is given."""
    return command.make_context(command.name, [str(folder)]).params


def _setting_options(command: click.Command) -> dict[str, click.Option]:
    """The options of ``command`` that set a Config field, by that field's name."""
    known = {f.name for f in fields(Config)}
    return {CONFIG_NAME.get(name, name): p for name, p in _params(command).items()
            if CONFIG_NAME.get(name, name) in known}


@pytest.mark.parametrize("command", [process, watch], ids=["process", "watch"])
def test_every_setting_option_agrees_with_its_bounds(command, tmp_path):
    options = _setting_options(command)
    given = _defaults(command, tmp_path)
    expected = {"model", "device", "diarizer", "speakers", "min_speakers", "max_speakers",
                "interviewer_channel", "language"}
    if command is process:
        expected |= {"quality", "beam_size", "pyannote_pipeline", "interviewer", "interviewer_voice",
                     "min_silence_s"}
    assert set(options) == expected  # a new option is checked here too
    for name, option in options.items():
        rule = BOUNDS[name]
        assert given[option.name] is None, f"--{name}: no default of its own (ivp.toml must apply)"
        kind = option.type
        if rule.choices:
            assert isinstance(kind, click.Choice), name
            assert tuple(kind.choices) == rule.choices, name
        elif isinstance(kind, (click.IntRange, click.FloatRange)):
            assert kind.max == rule.high, name
            assert kind.min >= rule.low, name  # 1 where 0 means "not set"
            assert kind.min_open == (rule.above_low and kind.min == rule.low), name


def test_quality_help_and_min_silence_default_come_from_the_config():
    options = _params(process)
    for name, (model, compute, beam) in QUALITY.items():
        assert f"{name}: {model} {compute} beam {beam}" in options["quality"].help
    assert f"(default {Config.min_silence_s:g})" in options["min_silence"].help


def test_speakers_accepts_what_the_config_accepts():
    high = int(BOUNDS["speakers"].high)
    param = _params(process)["speakers"]
    ctx = click.Context(process)
    assert param.process_value(ctx, "auto") == 0
    assert param.process_value(ctx, str(high)) == high
    assert BOUNDS["speakers"].check(high) is None
    with pytest.raises(click.BadParameter):
        param.process_value(ctx, str(high + 1))
    assert BOUNDS["speakers"].check(high + 1) is not None


def test_watch_defaults_and_ranges_are_the_options_own(tmp_path):
    defaults = {f.name: f.default for f in fields(WatchOptions)}
    given = _defaults(watch, tmp_path)
    checked = set()
    for name, option in _params(watch).items():
        if name not in defaults:
            continue
        checked.add(name)
        assert given[name] == defaults[name], name
        if name in RANGES:
            low, high = RANGES[name]
            assert (option.type.min, option.type.max) == (low, high), name
            # what the CLI refuses, the options clamp to the same edge
            assert getattr(WatchOptions(**{name: low - 1}), name) == low, name
    assert {"workers", "settle_s", "max_attempts", "retry_delay_s", "rescan_s", "report"} <= checked


def test_the_worker_takes_its_defaults_from_the_watch_options():
    signature = inspect.signature(Worker.__init__).parameters
    for name in ("max_attempts", "retry_delay_s", "tick_s"):
        assert signature[name].default == getattr(WatchOptions(), name), name


def test_one_reading_of_a_comma_list_for_formats_kinds_and_team_voices():
    from pipeline.config import comma_list
    from pipeline.export.base import parse_formats, parse_kinds
    from pipeline.stages.voices import team_names
    assert comma_list(" SRT, edl,, ", lower=True) == ["srt", "edl"] == parse_formats([" SRT, edl", ""])
    assert comma_list(["a,b", "c"]) == ["a", "b", "c"] and comma_list(None) == []
    assert team_names("Dana , sam,") == ["Dana", "sam"]
    assert parse_kinds("Bookmarks") == parse_kinds(["bookmarks"])
