"""pipeline/recording: the rules both drivers share, without models (fast)."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
from pathlib import Path

import pytest

from pipeline.config import BOUNDS, Config
from pipeline.errors import ConfigError, OutputError
from pipeline.text import cell
from pipeline.recording import discover, display
from pipeline.recording.cache import VERSION, StageCache
from pipeline.recording.markers import MAX_LABEL_CHARS, parse_marks, parse_time, read_marks
from pipeline.recording.outputs import OutputPlan, is_own_temp, recording_stem, short
from pipeline.recording.settings import Settings
from pipeline.recording.outputs import atomic_write_text


def test_stems_are_unique_in_a_folder_and_short_enough(tmp_path):
    for name in ("call.flac", "call.wav", "call.flac.wav", "solo.mp3"):
        (tmp_path / name).write_bytes(b"x")
    stems = {n: recording_stem(tmp_path / n) for n in ("call.flac", "call.wav", "call.flac.wav", "solo.mp3")}
    assert stems["solo.mp3"] == "solo" and stems["call.wav"] == "call.wav"
    assert len(set(stems.values())) == 4
    a, b = "é" * 200 + "a", "é" * 200 + "b"  # 401 bytes each, same start
    assert short(a) != short(b) and max(len(short(a).encode()), len(short(b).encode())) <= 150
    assert short(a).encode().decode("utf-8") == short(a)  # cut on a character boundary


def test_out_mirrors_input_folders_and_never_leaves_the_output(tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "res"
    plan = OutputPlan(out, [a, b])
    assert plan.folder(a / "x.flac") == out / "a" and plan.folder(b / "s" / "x.flac") == out / "b" / "s"
    assert OutputPlan(out, [a]).folder(a / "s" / "x.flac") == out / "s"
    (out / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", out / "a" / "s")  # a planted link inside the output
    with pytest.raises(OutputError, match="outside"):
        plan.sidecar(a / "s" / "x.flac", ".interview.json")


def test_only_our_temp_files_match():
    assert is_own_temp(".ivp-tmp-abc12345.tmp")
    for name in (".notes.json.backup1.tmp", ".x.interview.json.abc123.tmp", ".ivp-tmp-.tmp",
                 ".ivp-tmp-../x.tmp", "ivp-tmp-abcdef.tmp"):
        assert not is_own_temp(name), name


def test_atomic_writes_use_the_distinctive_temp_name(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a).name), real(a, b)))
    atomic_write_text(tmp_path / ("n" * 240 + ".json"), "{}")
    assert seen and is_own_temp(seen[0])


def test_fifo_and_device_links_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "f.wav")
    os.symlink("/dev/zero", tmp_path / "z.wav")
    (tmp_path / "ok.wav").write_bytes(b"RIFF")
    signal.alarm(10)  # opening a FIFO would block forever
    try:
        assert discover.not_regular(tmp_path / "f.wav") == "not a regular file (a FIFO)"
        assert discover.not_regular(tmp_path / "z.wav") == "not a regular file (a device)"
        assert "leaves the folder" in discover.not_regular(tmp_path / "z.wav", tmp_path)
        with pytest.raises(OSError, match="FIFO"):
            discover.open_regular(tmp_path / "f.wav")
        assert [p.name for p in discover.walk(tmp_path)] == ["ok.wav"]
    finally:
        signal.alarm(0)


@pytest.mark.parametrize("toml, key", [('min_silence_s = "2"', "min_silence_s"), ("bookmark_cues = 5", "bookmark_cues"),
                                       ("beam_size = 1000000", "beam_size"), ("cpu_threads = 1000", "cpu_threads"),
                                       ("min_silence_s = nan", "min_silence_s"), ("speakers = true", "speakers"),
                                       ("diarizer = 'magic'", "diarizer"), ("nonsense = 1", "nonsense")])
def test_bad_settings_name_file_key_and_allowed_values(tmp_path, toml, key):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ivp.toml").write_text(toml + "\n")
    settings = Settings(tmp_path)
    assert settings.for_folder(tmp_path) == Config()  # the parent is fine
    with pytest.raises(ConfigError) as err:
        settings.for_folder(tmp_path / "sub")
    line = err.value.line()
    assert line.startswith(f"{tmp_path / 'sub' / 'ivp.toml'}: config: ") and key in line and "\n" not in line


def test_every_field_has_bounds_and_the_cascade_runs_root_to_leaf(tmp_path):
    assert set(BOUNDS) == set(Config.__dataclass_fields__)  # a new field needs one table entry
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "ivp.toml").write_text('diarizer = "channels"\nmin_silence_s = 1.5\n')
    (tmp_path / "a" / "b" / "ivp.toml").write_text("min_silence_s = 2.5\n")
    c = Settings(tmp_path, overrides={"speakers": 3}).for_folder(tmp_path / "a" / "b")
    assert (c.diarizer, c.min_silence_s, c.speakers) == ("channels", 2.5, 3)
    (tmp_path / "a" / "ivp.toml").write_text('cache_dir = "../../outside"\n')
    with pytest.raises(ConfigError, match="must be a folder inside"):
        Settings(tmp_path).for_folder(tmp_path / "a")
    (tmp_path / "a" / "ivp.toml").write_text('cache_dir = "mycache"\n')
    assert Settings(tmp_path).for_folder(tmp_path / "a").cache_dir == str(tmp_path / "a" / "mycache")


def test_cache_entries_are_versioned_and_wrong_shapes_are_misses(tmp_path):
    cache = StageCache(tmp_path)
    sha = "ab" * 32
    reader = lambda d: [float(x) for x in d["values"]]  # noqa: E731
    cache.save(sha, "stage", "k", {"values": [1, 2]})
    assert cache.load(sha, "stage", "k", reader) == [1.0, 2.0]
    entry = json.loads(cache.path(sha, "stage", "k").read_text())
    assert entry["ivp_cache"] == VERSION
    for bad in ('{"values": [1]}', '{"ivp_cache": 1, "stage": "stage", "key": "k", "data": {"values": []}}',
                '{"ivp_cache": %d, "stage": "stage", "key": "k", "data": {"other": 1}}' % VERSION, "[]", "{trunc"):
        cache.path(sha, "stage", "k").write_text(bad)
        assert cache.load(sha, "stage", "k", reader) is None, bad
        assert not cache.path(sha, "stage", "k").exists()  # removed: recomputed next time
    assert cache.path("../../etc", "stage", "k") is None


def test_marker_lines_are_bounded(tmp_path):
    signal.alarm(20)
    try:
        text = "\n".join(["9" * 400, "1e309 big", "00:00:01 " + "L" * 1000, "x" * (3 << 20), "00:00:02 ok"])
        marks, problems = parse_marks(text, "t.marks.txt")
        assert [m.seconds for m in marks] == [1.0, 2.0] and len(marks[0].label) == MAX_LABEL_CHARS
        assert len(problems) == 3 and all(len(str(p)) < 300 for p in problems)
        with pytest.raises(ValueError):
            parse_time("9" * 309)
        (tmp_path / "r.marks.csv").write_text('00:00:01,"' + "q" * (2 << 20) + "\n")
        marks, problems = read_marks(tmp_path / "r.wav")
        assert problems and not marks  # one huge quoted field: reported, never a crash
    finally:
        signal.alarm(0)


def test_cells_that_spreadsheets_evaluate_are_neutralised():
    for evil in ("=HYPERLINK(\"http://x\")", "=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "＝1"):
        assert cell(evil).startswith("'"), evil
    assert cell("a normal label") == "a normal label"


def test_display_keeps_one_line():
    assert display("a\nerror: forged") == "a\\nerror: forged" and display("[bold]") == "[bold]"


# ------------------------------------------------------------------------------------- dates

def _tone(path: Path, *meta: str) -> Path:
    import subprocess
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    *meta, str(path)], check=True)
    return path


def test_the_media_s_own_creation_time_dates_a_recording_whose_name_has_none(tmp_path):
    from pipeline.interview import Interview, PipelineInfo, Recording
    from pipeline.recording import dates

    def date_of(media: Path) -> str:
        iv = Interview(source=Recording(str(media), "0" * 64, 1.0, 1, 16000, "aac"),
                       pipeline=PipelineInfo("test", "tiny", "test", "cpu", "int8"))
        return dates.recording_date(iv, media.with_suffix(".interview.json"), media)

    copied = 1_700_000_000  # 2023-11-14: when the file was copied, not recorded
    zoom = _tone(tmp_path / "call.m4a", "-metadata", "creation_time=2021-06-15T12:00:00.000000Z")
    plain = _tone(tmp_path / "plain.m4a")
    named = _tone(tmp_path / "2020-02-03 call.m4a", "-metadata", "creation_time=2021-06-15T12:00:00Z")
    for f in (zoom, plain, named):
        os.utime(f, (copied, copied))
    assert date_of(zoom) == "2021-06-15"
    assert date_of(plain) == dt.date.fromtimestamp(copied).isoformat()  # no tag: the mtime
    assert date_of(named) == "2020-02-03"  # a date in the name still comes first
    # a container that says 1970 knows no date; an unreadable file has none
    assert dates.parse_creation_time("1970-01-01T00:00:00.000000Z") is None
    assert dates.parse_creation_time("not a time") is None
    junk = tmp_path / "junk.m4a"
    junk.write_bytes(b"not media")
    assert dates.media_created(junk) is None
