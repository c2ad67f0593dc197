"""A highlight reel over three real interviews, checked by listening: the reel is transcribed back
with the tiny model and compared with the quotes it was made from.

Three recordings (built once per session): a researcher (Piper's ``joe``) asks questions; the
first interviewee answers with real read speech (LJ Speech clips from ../shared/data), the other
two with espeak-ng voices. The word ``type`` is said by the interviewee twice in a row in the
first interview (two sentences 0.7 s apart: their handles overlap), once in each of the others,
and by the researcher in the question just before each of those answers. A reel of ``type`` must hold one clip per interview, never the
same audio twice, none of the researcher's words, and still resolve its media after the folder moves.
"""
from __future__ import annotations

import json
import re
import shutil
import wave
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from click.testing import CliRunner

import kit
from pipeline.cli import main

pytestmark = pytest.mark.slow  # three recordings processed (tiny.en), a reel rendered and transcribed

ra = kit.synthetic_voices("roles_audio")

LJ = "ljspeech/LJ001-{:04d}.flac"
# Each interview: its interviewee's voice ("lj": the real LJ Speech reader, clips by number; else an
# espeak-ng voice saying the text) and its lines: "A" the researcher (Piper's joe), "B" the interviewee.
# One researcher, three different interviewees, as in a real study (the folder's voice step links
# the researcher by the voice heard in every interview).
SCRIPTS = {
    "2024-06-03 ana": ("lj", [("A", "Thanks for joining. Can you tell me how you got into books?"), ("B", 1),
                              ("A", "Which type of letters did the first printers use?"), ("B", 9), ("B", 10),
                              ("A", "Interesting. And what came after that?"), ("B", 14)]),
    "2024-06-05 bo": ("espeak:en-us+m3", [
        ("A", "Thanks for joining. Can you tell me about your work?"),
        ("B", "I restore old books for a small library in the north of the city."),
        ("A", "What type of book do you see most?"),
        ("B", "Mostly bibles printed in a heavy gothic type with wide margins."),
        ("A", "And how long does one of them take?"),
        ("B", "About three weeks when the binding is still in good shape.")]),
    "2024-06-07 cy": ("espeak:en-us+f2", [
        ("A", "Thanks for joining. Where do you work these days?"),
        ("B", "I teach a printing class at the art college on Tuesdays."),
        ("A", "What type do your students like best?"),
        ("B", "They love the roman type because it is so easy to read."),
        ("A", "Thank you. Anything else you want to add?"),
        ("B", "Only that the workshop needs a new press before the winter.")]),
}
QUERY = "type"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower().replace("-", " "))


def build(folder: Path, name: str, voice: str, script, shared: Path, gap_s: float = 0.7) -> Path:
    """``folder/<name>.wav``: the script's lines one after another, ``gap_s`` apart."""
    parts = []
    for who, what in script:
        if who == "A":
            audio = ra.say("joe", what)
        elif voice == "lj":
            audio = ra.trim_level(ra.decode16k(shared / LJ.format(what)))
        else:
            audio = ra.say(voice, what)
        parts += [audio, np.zeros(int(gap_s * ra.SR), dtype=np.float32)]
    mix = np.concatenate([np.zeros(int(0.5 * ra.SR), dtype=np.float32), *parts])
    path = folder / f"{name}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(ra.SR)
        w.writeframes((np.clip(mix, -0.99, 0.99) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="session")
def reel_folder(shared_data, tmp_path_factory) -> Path:
    """The three interviews, built and processed once per session."""
    from pipeline.batch import process_batch
    folder = tmp_path_factory.mktemp("reel-audio") / "study"
    folder.mkdir()
    paths = [build(folder, name, voice, script, shared_data) for name, (voice, script) in SCRIPTS.items()]
    results = process_batch(paths, {"quality": "fast"})
    assert all(r.ok for r in results), [r.error for r in results]
    return folder


def transcribe(path: Path) -> list[str]:
    from faster_whisper import WhisperModel

    from pipeline.weights import resolve_model
    model = WhisperModel(str(resolve_model("tiny.en")), device="cpu", compute_type="int8")
    segments, _info = model.transcribe(str(path), beam_size=1, vad_filter=False, condition_on_previous_text=False)
    return words(" ".join(s.text for s in segments))


def count(needle: list[str], hay: list[str]) -> int:
    n = len(needle)
    return sum(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def test_reel_has_one_clip_per_interview_no_repeated_audio_no_interviewer_and_survives_a_move(
        reel_folder, shared_data, tmp_path):
    import opentimelineio as otio
    res = CliRunner().invoke(main, ["export", str(reel_folder), "--reel-query", QUERY,
                                    "--format", "premiere,fcpxml,clips", "--json"])
    assert res.exit_code == 0, res.output
    files = {Path(f).suffix: Path(f) for f in json.loads(res.stdout)["files"]}
    timeline = otio.adapters.read_from_file(str(files[".xml"]), "fcp_xml")
    clips = list(timeline.find_clips())
    # one clip per matching interview, balanced, the two neighbouring sentences of the first merged
    assert [c.name[3:] for c in clips] == [f"{n}.wav" for n in SCRIPTS], [c.name for c in clips]

    hits = json.loads(CliRunner().invoke(main, ["search", str(reel_folder), QUERY, "--role", "interviewee",
                                                "--json"]).stdout)
    assert sorted({Path(h["doc"]).stem for h in hits}) == sorted(SCRIPTS), hits
    hits.sort(key=lambda h: (h["doc"], h["start"]))
    assert len(clips[0].markers) == sum(Path(h["doc"]).stem == "2024-06-03 ana" for h in hits)
    assert all(len(c.markers) == 1 for c in clips[1:])

    heard = transcribe(files[".m4a"])
    for h in hits:  # every quote in the reel (as the pipeline heard it), each heard once
        quote = words(h["text"])
        longer = [w for w in quote if len(w) > 3]
        assert sum(w in heard for w in longer) >= 0.5 * len(longer), (quote, heard)  # in it (ASR differs a little)
        grams = [quote[i:i + 4] for i in range(0, len(quote) - 3)]
        assert all(count(g, heard) <= 1 for g in grams), ([g for g in grams if count(g, heard) > 1], heard)
    quotes = [words(h["text"]) for h in hits]
    for q in (words(x) for _v, s in SCRIPTS.values() for who, x in s if who == "A"):
        grams = [q[i:i + 3] for i in range(len(q) - 2) if not any(count(q[i:i + 3], b) for b in quotes)]
        assert not any(count(g, heard) for g in grams), (q, heard)  # none of the researcher's words
    first = [w for h in hits[:1] for w in words(h["text"])[:4]]
    assert heard[:3] and set(heard[:3]) & set(first), (heard[:8], first)  # it opens with the interviewee

    moved = tmp_path / "moved" / "study copy"
    moved.parent.mkdir()
    shutil.move(str(reel_folder), str(moved))
    try:
        reels = moved / files[".xml"].parent.relative_to(reel_folder)
        for clip in otio.adapters.read_from_file(str(reels / files[".xml"].name), "fcp_xml").find_clips():
            target = (reels / unquote(clip.media_reference.target_url)).resolve()
            assert target.is_file() and target.parent == moved.resolve(), clip.media_reference.target_url
    finally:
        shutil.move(str(moved), str(reel_folder))  # the session's folder, back where the fixture left it
