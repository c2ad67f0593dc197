#!/usr/bin/env python
"""Highlights benchmark: do the detected highlights (pipeline/stages/moments.py) pick what a
researcher would keep, and only that, at the density of a highlight reel?

    python scripts/bench_highlights.py [--split dev|heldout|fresh|all] [--out bench_out] [--show]

Reads the labelled constructed interviews in tests/data/highlights/ (``dev.txt``: the rules may be
tuned on it; ``heldout.txt`` and ``fresh.txt``: never used for tuning; ``fresh`` was written after
the first round of rule changes, then read once after the second), times each sentence (0.33 s a word for the
interviewee, 0.3 s for the interviewer, the pauses the file gives), runs ``find_moments`` and
scores every highlight (the kinds of ``moments.GROUPS["highlights"]``):

* precision: highlights that take in at least one sentence a researcher labelled; sentence
  precision: of the sentences a rule matched by itself (before neighbours and insights are joined
  into one moment), those labelled;
* recall: labelled sentences inside some highlight (``kind right``: one whose kinds include the label);
* density: highlights per interviewee sentence and per minute, beside the labels' own density;
* the bundled sample's truth text (sample_audio/interview.truth.json, unlabelled): its density;
* with ../shared/data present, the 32 LJ Speech sentences (real read prose about printing: nothing
  a researcher keeps) as one interviewee's answers: every highlight there is a false one.

``--spoken DIR`` also speaks the held-out interviews (Piper and espeak-ng, scripts/roles_audio.py)
and runs the whole pipeline on them: Whisper's punctuation, the diarizer and the roles included.
``--show`` prints each miss, each false highlight and each unlabelled sentence a rule matched. Writes ``<out>/bench_highlights.json``.
Measured figures: docs/moments-and-exports.md ("Detected highlights").
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
DATA = ROOT / "tests" / "data" / "highlights"
SAMPLE = ROOT / "sample_audio" / "interview.truth.json"
LJ = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real" / "ljspeech" / "transcripts_normalized.psv"

from pipeline.config import Config  # noqa: E402
from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording,  # noqa: E402
                                RoleAssignment, Segment, Turn, Word)
from pipeline.stages import highlights as hl, moments as mo  # noqa: E402
from pipeline.text import timed_sentences  # noqa: E402

SPLITS = ("dev", "heldout", "fresh")
LABELS = ("pain_point", "workaround", "wish", "story", "emotion", "insight")
KIND_OF = {label: label for label in LABELS} | {"insight": "insight_after_silence"}
SECONDS_PER_WORD = {INTERVIEWEE: 0.33, INTERVIEWER: 0.3}
GAP_TURN_S, GAP_SENTENCE_S = 0.8, 0.3
_LINE = re.compile(r"^(?P<who>[QA]):\s*(?:\[(?P<label>\w+)\]\s*)?(?P<text>.+)$")


@dataclass
class Labelled:
    """One constructed interview: the lines (role, text, label or None, pause before or None)."""

    name: str
    lines: list[tuple[str, str, str | None, float | None]] = field(default_factory=list)


def read(path: Path) -> list[Labelled]:
    """The interviews of one labelled file (format: the head of tests/data/highlights/dev.txt)."""
    out: list[Labelled] = []
    pause = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("=="):
            out.append(Labelled(line[2:].strip()))
            continue
        m = re.fullmatch(r"\(pause ([\d.]+)\)", line)
        if m:
            pause = float(m.group(1))
            continue
        m = _LINE.match(line)
        if not m or not out or (m.group("label") and m.group("label") not in LABELS):
            raise ValueError(f"{path.name} line {n}: cannot read {line!r}")
        role = INTERVIEWER if m.group("who") == "Q" else INTERVIEWEE
        out[-1].lines.append((role, m.group("text"), m.group("label"), pause))
        pause = None
    return out


def interview(lab: Labelled) -> tuple[Interview, list[tuple[float, float, str | None]]]:
    """The interview, words timed evenly, one turn a line; and each answer sentence's (start, end, label)."""
    segments, turns, answers = [], [], []
    t, last_role = 0.0, None
    for role, text, label, pause in lab.lines:
        gap = pause if pause is not None else (0.0 if last_role is None else GAP_SENTENCE_S if role == last_role else GAP_TURN_S)
        start = t + gap
        words = text.split()
        step = SECONDS_PER_WORD[role]
        ws = [Word(round(start + i * step, 3), round(start + (i + 1) * step - 0.05, 3), " " + w) for i, w in enumerate(words)]
        end = ws[-1].end
        speaker = "S1" if role == INTERVIEWER else "S2"
        segments.append(Segment(start, end, " " + text, ws, speaker, role, "en"))
        turns.append(Turn(start, end, speaker, role))
        if role == INTERVIEWEE:
            answers.append((start, end, label))
        t, last_role = end, role
    iv = Interview(source=Recording(f"/nonexistent/{lab.name}.wav", "0" * 64, t + 2.0, 1, 16000, "pcm_s16le"),
                   pipeline=PipelineInfo("bench", "none", "none", "cpu", "int8", settings={}),
                   segments=segments, turns=turns, roles=RoleAssignment("S1", "S2", 1.0, "override"), language="en")
    return iv, answers


def highlights(iv: Interview) -> list:
    return [m for m in mo.find_moments(iv, Config(), marks=[]) if m.kind in mo.GROUPS["highlights"]]


def covered(m, answers) -> list[int]:
    return [i for i, (s, e, _) in enumerate(answers) if s >= m.start - 0.01 and e <= m.end + 0.01]


def flagged(iv: Interview, answers) -> set[int]:
    """The answer sentences a highlight rule matched by themselves (before joining neighbours
    and insights into one moment)."""
    sents = timed_sentences(iv)
    out = set()
    for i, s in enumerate(sents):
        if s.role == INTERVIEWEE and (hl.said(s) or hl.asked_for(sents, i)):
            out.update(k for k, (a, b, _) in enumerate(answers) if a <= s.start + 0.01 and s.end <= b + 0.01)
    return out


def score(labelled: list[Labelled], show: bool = False) -> dict:
    tp = fp = found = kind_right = sentences = keep = s_tp = s_fp = 0
    minutes = 0.0
    per_kind = {label: {"labelled": 0, "found": 0, "kind_right": 0} for label in LABELS}
    for lab in labelled:
        iv, answers = interview(lab)
        minutes += iv.source.duration_s / 60
        sentences += len(answers)
        keep += sum(1 for a in answers if a[2])
        hits = highlights(iv)
        for i in flagged(iv, answers):
            s_tp += bool(answers[i][2])
            s_fp += not answers[i][2]
            if show and not answers[i][2]:
                print(f"  ruled  {lab.name}: {_texts(iv, answers[i])}")
        taken: dict[int, list] = {}
        for m in hits:
            inside = covered(m, answers)
            for i in inside:
                taken.setdefault(i, []).append(m)
            if any(answers[i][2] for i in inside):
                tp += 1
            else:
                fp += 1
                if show:
                    print(f"  false  {lab.name}: {m.label} | {m.text}")
        for i, (_, _, label) in enumerate(answers):
            if not label:
                continue
            per_kind[label]["labelled"] += 1
            ms = taken.get(i, [])
            if ms:
                found += 1
                per_kind[label]["found"] += 1
                if any(KIND_OF[label] in (m.kind, *m.also) for m in ms):
                    kind_right += 1
                    per_kind[label]["kind_right"] += 1
            elif show:
                print(f"  missed {lab.name}: [{label}] {_texts(iv, answers[i])}")
    return {"interviews": len(labelled), "answer_sentences": sentences, "labelled": keep,
            "highlights": tp + fp, "precision": _ratio(tp, tp + fp), "recall": _ratio(found, keep),
            "sentence_precision": _ratio(s_tp, s_tp + s_fp),
            "kind_right": _ratio(kind_right, keep),
            "density_per_sentence": _ratio(tp + fp, sentences), "labelled_per_sentence": _ratio(keep, sentences),
            "per_minute": round((tp + fp) / minutes, 2) if minutes else None,
            "labelled_per_minute": round(keep / minutes, 2) if minutes else None,
            "minutes": round(minutes, 1), "per_kind": per_kind}


def _texts(iv: Interview, answer) -> str:
    return " ".join(s.text.strip() for s in iv.segments if s.start >= answer[0] - 0.01 and s.end <= answer[1] + 0.01)


def _ratio(a: int, b: int):
    return round(a / b, 3) if b else None


def lj_false(show: bool = False) -> dict | None:
    """The LJ Speech sentences as one interviewee's answers to one question: every highlight is false."""
    if not LJ.is_file():
        return None
    lines = [("Q", "Can you tell me about the history of printing?", None, None)]
    lines += [("A", row.split("|", 1)[1].strip(), None, None) for row in LJ.read_text(encoding="utf-8").splitlines() if "|" in row]
    lab = Labelled("ljspeech", [(INTERVIEWER if w == "Q" else INTERVIEWEE, t, la, p) for w, t, la, p in lines])
    iv, answers = interview(lab)
    hits = highlights(iv)
    if show:
        for m in hits:
            print(f"  false  ljspeech: {m.label} | {m.text}")
    return {"answer_sentences": len(answers), "false_highlights": len(hits)}


def sample_density() -> dict:
    """The bundled sample's truth (its turns and what was said in them, words spread evenly over
    each turn): how many highlights, per minute and per interviewee sentence."""
    truth = json.loads(SAMPLE.read_text(encoding="utf-8"))
    segments, turns = [], []
    for t in truth["turns"]:
        role = INTERVIEWER if t["role"] == "interviewer" else INTERVIEWEE
        words = t["text"].split()
        step = (t["end"] - t["start"]) / len(words)
        ws = [Word(round(t["start"] + i * step, 3), round(t["start"] + (i + 1) * step - 0.02, 3), " " + w)
              for i, w in enumerate(words)]
        speaker = "S1" if role == INTERVIEWER else "S2"
        segments.append(Segment(t["start"], t["end"], " " + t["text"], ws, speaker, role, "en"))
        turns.append(Turn(t["start"], t["end"], speaker, role))
    iv = Interview(source=Recording("/nonexistent/interview.opus", "0" * 64, truth["duration_s"], 1, 16000, "opus"),
                   pipeline=PipelineInfo("bench", "none", "none", "cpu", "int8", settings={}),
                   segments=segments, turns=turns, roles=RoleAssignment("S1", "S2", 1.0, "override"), language="en")
    hits = highlights(iv)
    answers = [s for s in timed_sentences(iv) if s.role == INTERVIEWEE]
    return {"highlights": len(hits), "minutes": round(truth["duration_s"] / 60, 2), "answer_sentences": len(answers),
            "per_minute": round(len(hits) / (truth["duration_s"] / 60), 2),
            "labels": [m.label for m in hits]}


def spoken_score(labelled: list[Labelled], folder: Path) -> dict:
    """The same interviews spoken (Piper ``joe`` asks, espeak-ng answers, one line a turn, the
    pauses the file gives) and run through the whole pipeline: Whisper's sentences, the diarizer's
    speakers and the roles decided from them. A labelled line is found when a highlight covers
    half of it or more; a highlight is right when it covers half of a labelled line."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import roles_audio as ra
    from pipeline.runner import Pipeline
    pipeline = Pipeline(Config())
    tp = fp = found = keep = 0
    minutes = 0.0
    for lab in labelled:
        lines = [("A" if role == INTERVIEWER else "B", text) for role, text, _, _ in lab.lines]
        pauses = {k: -pause for k, (_, _, _, pause) in enumerate(lab.lines) if pause is not None}
        wav, truth_path = folder / f"{lab.name}.wav", folder / f"{lab.name}.truth.json"
        if wav.is_file() and truth_path.is_file():
            truth = json.loads(truth_path.read_text())
        else:
            wav, truth = ra.build(ra.Interview(lab.name, "joe", "espeak:en-us+m3", lines, early=pauses), folder)
        iv = pipeline.process(wav)
        minutes += iv.source.duration_s / 60
        spans = [(t["start"], t["end"], label) for t, (_, _, label, _) in zip(truth["turns"], lab.lines)]
        hits = [m for m in iv.moments if m.kind in mo.GROUPS["highlights"] or set(m.also) & set(mo.GROUPS["highlights"])]

        def half(m, s, e):
            return min(m.end, e) - max(m.start, s) >= 0.5 * (e - s)
        for m in hits:
            tp += any(label and half(m, s, e) for s, e, label in spans)
            fp += not any(label and half(m, s, e) for s, e, label in spans)
        for s, e, label in spans:
            if label:
                keep += 1
                found += any(half(m, s, e) for m in hits)
    return {"interviews": len(labelled), "labelled": keep, "highlights": tp + fp, "precision": _ratio(tp, tp + fp),
            "recall": _ratio(found, keep), "per_minute": round((tp + fp) / minutes, 2) if minutes else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "heldout", "fresh", "all"), default="all")
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--show", action="store_true", help="print each miss and each false highlight")
    ap.add_argument("--spoken", type=Path, metavar="DIR",
                    help="also speak the split's interviews into DIR (kept, reused) and run the whole pipeline on them")
    args = ap.parse_args()
    result = {}
    for split in (SPLITS if args.split == "all" else (args.split,)):
        if args.show:
            print(f"{split}:")
        result[split] = score(read(DATA / f"{split}.txt"), args.show)
    result["ljspeech"] = lj_false(args.show)
    splits = [s for s in result if s != "ljspeech"]
    print(f"{'':24}" + "".join(f"{s:>12}" for s in splits))
    for key in ("interviews", "answer_sentences", "labelled", "highlights", "precision", "sentence_precision",
                "recall", "kind_right",
                "density_per_sentence", "labelled_per_sentence", "per_minute", "labelled_per_minute"):
        print(f"{key:24}" + "".join(f"{result[s][key]!s:>12}" for s in splits))
    for label in LABELS:
        print(f"recall {label:17}" + "".join(
            f"{'{found}/{labelled} ({kind_right})'.format(**result[s]['per_kind'][label]):>12}" for s in splits))
    lj = result["ljspeech"]
    print("ljspeech (real prose, nothing to keep): "
          + (f"{lj['false_highlights']} highlights in {lj['answer_sentences']} sentences" if lj else "../shared/data absent, skipped"))
    sample = result["sample"] = sample_density()
    print(f"bundled sample (its truth text, {sample['minutes']} min): {sample['highlights']} highlights from "
          f"{sample['answer_sentences']} interviewee sentences, {sample['per_minute']} a minute")
    if args.show:
        print("\n".join(f"  sample: {label}" for label in sample["labels"]))
    if args.spoken:
        for split in (("heldout", "fresh") if args.split == "all" else (args.split,)):
            r = result[f"{split}_spoken"] = spoken_score(read(DATA / f"{split}.txt"), args.spoken)
            print(f"{split}, spoken through the pipeline: precision {r['precision']}, recall {r['recall']}, "
                  f"{r['highlights']} highlights, {r['per_minute']} a minute", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_highlights.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
