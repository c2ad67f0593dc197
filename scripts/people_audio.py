"""Constructed conversations of two to four people with known turns and roles, for the
speaker-count and roles tests and ``scripts/bench_people.py``.

Voices are those of :mod:`roles_audio` (Piper ``joe``, espeak-ng variants, the real LJ Speech
and LibriSpeech readers, whose clips are used in order whatever a line's text says). Each line
is trimmed and level-matched and laid on a timeline with fixed gaps, so who speaks when is exact.
"""
from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

import roles_audio as ra

SR = ra.SR
INTERVIEWER, INTERVIEWEE = "interviewer", "interviewee"


@dataclass
class Person:
    voice: str  # a roles_audio voice: joe, espeak:VARIANT, lj, libri
    role: str  # interviewer | interviewee


@dataclass
class Conversation:
    name: str
    people: dict[str, Person]  # who -> voice and role
    lines: list[tuple[str, str]]  # (who, text)
    gap_s: float = 0.7


def build(conv: Conversation, folder: Path) -> tuple[Path, dict]:
    """Write ``folder/<name>.wav`` and ``<name>.truth.json``: turns (speaker = who), roles, shares."""
    clips = {who: ra.real_clips(p.voice) for who, p in conv.people.items() if p.voice in ("lj", "libri")}
    used = dict.fromkeys(clips, 0)
    pieces = [np.zeros(int(0.5 * SR), dtype=np.float32)]
    turns, t = [], 0.5
    for who, text in conv.lines:
        person = conv.people[who]
        if who in clips:
            audio = clips[who][used[who] % len(clips[who])]
            used[who] += 1
        else:
            audio = ra.say(person.voice, text)
        turns.append({"start": round(t, 3), "end": round(t + len(audio) / SR, 3), "speaker": who})
        pieces += [audio, np.zeros(int(conv.gap_s * SR), dtype=np.float32)]
        t += len(audio) / SR + conv.gap_s
    mix = np.clip(np.concatenate(pieces), -0.99, 0.99)
    path = ra.write_wav(folder / f"{conv.name}.wav", mix)
    talk: dict[str, float] = {}
    for turn in turns:
        talk[turn["speaker"]] = talk.get(turn["speaker"], 0.0) + turn["end"] - turn["start"]
    total = sum(talk.values())
    truth = {"audio": path.name, "turns": turns, "duration_s": len(mix) / SR,
             "roles": {who: p.role for who, p in conv.people.items()},
             "share": {who: round(s / total, 4) for who, s in talk.items()},
             "participant_share": round(sum(s for who, s in talk.items()
                                            if conv.people[who].role == INTERVIEWEE) / total, 4)}
    (folder / f"{conv.name}.truth.json").write_text(json.dumps(truth, indent=1))
    return path, truth


def double_download(src: Path, dst: Path) -> Path:
    """The same call saved again (``call (1).wav``): the same voices, other bytes (0.9 of the level)."""
    with wave.open(str(src), "rb") as r:
        params, frames = r.getparams(), r.readframes(r.getnframes())
    quieter = (np.frombuffer(frames, "<i2").astype(np.float32) * 0.9).astype("<i2")
    with wave.open(str(dst), "wb") as w:
        w.setparams(params)
        w.writeframes(quieter.tobytes())
    return dst


def speaker_map(turns, truth: dict) -> dict[str, str]:
    """The pipeline's speaker ids mapped to the truth's people by overlap (one to one, greedy)."""
    shared: dict[tuple[str, str], float] = {}
    for t in turns:
        for r in truth["turns"]:
            s = min(t.end, r["end"]) - max(t.start, r["start"])
            if s > 0:
                shared[(t.speaker, r["speaker"])] = shared.get((t.speaker, r["speaker"]), 0.0) + s
    mapping: dict[str, str] = {}
    for (spk, who), _ in sorted(shared.items(), key=lambda kv: -kv[1]):
        if spk not in mapping and who not in mapping.values():
            mapping[spk] = who
    return mapping


# -- scripts ---------------------------------------------------------------------------------------

QUESTIONS = ra.PLAIN_QUESTIONS
ANSWERS = ra.ANSWERS
MORE = [
    "It is not a big deal on a normal day, but at the end of the month it takes most of my afternoon.",
    "We tried another tool last year, but nobody wanted to move all the old clients over to it.",
    "Honestly the worst part is not knowing whether the numbers I send to the partners are right.",
    "I usually do it on Friday mornings, before the calls start and the inbox fills up again.",
]
FOLLOW_UPS = [  # a note taker's late questions
    "How many clients a month?",
    "Who checks the spreadsheet?",
    "What did you try before?",
    "How often is it wrong?",
]
CO_ANSWERS = [
    "Yes, and to add to that, on my side the sales team never sees any of those numbers until the quarter is over.",
    "I would say the same. We lose a day every month just copying figures from one screen into another one.",
    "For me it is mostly the reminders. I write every payment reminder by hand, and clients ignore half of them.",
    "Right, and when something goes wrong we only find out weeks later, when a client complains about it.",
    "We also looked at hiring a bookkeeper, but it felt silly to pay someone to fight the tool for us.",
]


def _answer(k: int) -> str:
    return ANSWERS[k % len(ANSWERS)] + " " + MORE[k % len(MORE)]


def with_note_taker(name: str, interviewer: str, interviewee: str, note_taker: str, n: int = 8) -> Conversation:
    """A researcher asks ``n`` questions; a note taker says hello, asks four follow-ups late and
    thanks the participant (about 7 % of the speech); the interviewee talks about 70 %."""
    lines = [("A", "Hi, thanks for joining us today. I really appreciate you taking the time."),
             ("N", "Hi, I'm Sam, taking notes."),
             ("B", "Sure, no problem at all, happy to help.")]
    for k in range(n):
        lines += [("A", QUESTIONS[k % len(QUESTIONS)]), ("B", _answer(k))]
        if k >= n - len(FOLLOW_UPS):
            lines += [("N", FOLLOW_UPS[k - (n - len(FOLLOW_UPS))]), ("B", MORE[(k + 1) % len(MORE)])]
    lines += [("A", "That is all my questions. Is there anything else you would like to add?"),
              ("B", "No, I think that covers it."),
              ("N", "Thanks, very helpful.")]
    return Conversation(name, {"A": Person(interviewer, INTERVIEWER), "N": Person(note_taker, INTERVIEWER),
                               "B": Person(interviewee, INTERVIEWEE)}, lines)


NOTES = [  # a quiet note taker's few statements: no question, prompt or host phrase among them
    "Hello, I am Sam from the design team.",
    "That matches what we heard from the finance people last month.",
    "Right, I have written that part down.",
    "Same story as the agency we spoke to last week.",
    "Great, I have everything I need here.",
]


def quiet_note_taker(name: str, interviewer: str, interviewee: str, note_taker: str, n: int = 5) -> Conversation:
    """A researcher asks ``n`` questions; a note taker only says a few statements (hello, three
    remarks after answers, a closing word), so their words alone say nothing of their side."""
    lines = [("A", "Hi, thanks for joining us today. I really appreciate you taking the time."),
             ("N", NOTES[0]), ("B", "Sure, no problem at all, happy to help.")]
    for k in range(n):
        lines += [("A", QUESTIONS[k % len(QUESTIONS)]), ("B", _answer(k))]
        if k in (1, 2, 3):
            lines.append(("N", NOTES[k]))
    lines += [("A", "That is all my questions. Is there anything else you would like to add?"),
              ("B", "No, I think that covers it."), ("N", NOTES[4])]
    return Conversation(name, {"A": Person(interviewer, INTERVIEWER), "N": Person(note_taker, INTERVIEWER),
                               "B": Person(interviewee, INTERVIEWEE)}, lines)


def two_interviewees(name: str, interviewer: str, first: str, second: str, n: int = 6) -> Conversation:
    """Two co-founders answer one researcher's questions, taking turns and adding to each other."""
    lines = [("A", "Hi both, thanks for joining me today. Let's start with your roles."),
             ("B", "Sure. I run the finance side and the invoicing."),
             ("C", "And I handle sales and the client relationships.")]
    for k in range(n):
        lines.append(("A", QUESTIONS[k % len(QUESTIONS)]))
        first_up, other = ("B", "C") if k % 2 == 0 else ("C", "B")
        lines.append((first_up, _answer(k) if first_up == "B" else CO_ANSWERS[k % len(CO_ANSWERS)]))
        lines.append((other, CO_ANSWERS[(k + 2) % len(CO_ANSWERS)] if other == "C" else MORE[k % len(MORE)]))
    lines.append(("A", "Thank you both, that is all my questions."))
    return Conversation(name, {"A": Person(interviewer, INTERVIEWER), "B": Person(first, INTERVIEWEE),
                               "C": Person(second, INTERVIEWEE)}, lines)


def four_people(name: str, interviewer: str, note_taker: str, first: str, second: str, n: int = 6) -> Conversation:
    """A researcher and a note taker with two participants."""
    conv = two_interviewees(name, interviewer, first, second, n)
    lines = list(conv.lines)
    lines.insert(1, ("N", "Hi, I'm Sam, taking notes."))
    for k in (0, 2):  # two follow-up questions late in the interview
        lines.insert(len(lines) - 4 - 6 * (k // 2), ("N", FOLLOW_UPS[k]))
        lines.insert(len(lines) - 4 - 6 * (k // 2), ("B", MORE[k + 1]))
    lines.append(("N", "Thanks both, very helpful."))
    people = dict(conv.people)
    people["N"] = Person(note_taker, INTERVIEWER)
    return Conversation(name, people, lines)


def two_people(name: str, interviewer: str, interviewee: str, n: int = 6, first: int = 0) -> Conversation:
    """A researcher asks ``n`` questions, from the ``first`` on (a follow-up interview asks others)."""
    lines = [("A", "Hi, thanks for joining me today. I really appreciate you taking the time.")]
    for k in range(first, first + n):
        lines += [("A", QUESTIONS[k % len(QUESTIONS)]), ("B", _answer(k))]
    return Conversation(name, {"A": Person(interviewer, INTERVIEWER), "B": Person(interviewee, INTERVIEWEE)}, lines)


def lone_interviewer(name: str, voice: str, n: int = 6) -> Conversation:
    """One person asking every question (the other side missing from the recording)."""
    lines = [("A", "Hi, thanks for joining me today. I really appreciate you taking the time.")]
    lines += [("A", QUESTIONS[k % len(QUESTIONS)]) for k in range(n)]
    return Conversation(name, {"A": Person(voice, INTERVIEWER)}, lines, gap_s=4.0)


def suite() -> list[Conversation]:
    """The benchmark's conversations: 2, 3 and 4 people, with short contributors. Researchers and
    note takers always have synthetic voices (the real readers' clips do not say the script's words)."""
    j, f2, m3, lj, li = "joe", "espeak:en-us+f2", "espeak:en-us+m3", "lj", "libri"
    return [
        two_people("two-joe-lj", j, lj),
        two_people("two-f2-m3", f2, m3),
        two_people("two-m3-joe", m3, j),
        with_note_taker("note-joe-lj-f2", j, lj, f2),
        with_note_taker("note-f2-lj-joe", f2, lj, j),
        with_note_taker("note-m3-joe-f2", m3, j, f2),
        with_note_taker("note-joe-li-m3", j, li, m3),
        two_interviewees("pair-joe-lj-m3", j, lj, m3),
        two_interviewees("pair-f2-joe-lj", f2, j, lj),
        two_interviewees("pair-m3-f2-li", m3, f2, li),
        four_people("four-joe-f2-lj-m3", j, f2, lj, m3),
        four_people("four-m3-joe-li-lj", m3, j, li, lj),
    ]


# -- meetings: people talking over each other ---------------------------------------------------

INTERJECTIONS = ["Yeah.", "Right.", "Exactly.", "Mm-hmm.", "Okay.", "Sure.", "True."]


@dataclass
class Meeting:
    """``len(voices)`` people (P1, P2, ...) speaking ``lines`` lines in a random order (seeded):
    each line starts 0.4-1.5 s before the last one ends with probability ``overlap``, else after a
    0.2-0.8 s pause, and with probability ``interject`` someone else says a word over a line longer
    than 3 s (a real reader: 0.7 s of one of their clips). ``weights``: how often each person takes
    the next line (a short contributor: a small weight)."""

    name: str
    voices: list[str]
    lines: int = 24
    overlap: float = 0.5
    interject: float = 0.5
    weights: Optional[list[float]] = None
    seed: int = 0


def _meeting_clip(voice: str, text: str, k: int, rng, short: bool = False) -> np.ndarray:
    if voice in ("lj", "libri"):
        clips = ra.real_clips(voice)
        clip = clips[k % len(clips)]
        if not short:
            return clip
        a = int(rng.uniform(0, max(1, len(clip) - SR)))
        return clip[a: a + int(0.7 * SR)]
    return ra.say(voice, text)


def build_meeting(m: Meeting, folder: Path) -> tuple[Path, dict]:
    """Write ``folder/<name>.wav`` and ``<name>.truth.json``: turns (speaker P1, P2, ...), each
    person's share and the share of speech where two or more people talk at once."""
    rng = np.random.default_rng(m.seed)
    people = list(range(len(m.voices)))
    weights = np.asarray(m.weights or [1.0] * len(people), dtype=float)
    weights /= weights.sum()
    texts = QUESTIONS + ANSWERS + MORE
    placed: list[tuple[float, np.ndarray]] = []
    turns: list[dict] = []
    t, previous, said = 0.5, None, dict.fromkeys(people, 0)

    def place(start: float, audio: np.ndarray, who: int) -> None:
        placed.append((start, audio))
        turns.append({"start": round(start, 3), "end": round(start + len(audio) / SR, 3), "speaker": f"P{who + 1}"})

    for _ in range(m.lines):
        who = previous
        while who == previous:
            who = int(rng.choice(people, p=weights))
        said[who] += 1
        audio = _meeting_clip(m.voices[who], texts[int(rng.integers(len(texts)))], said[who], rng)
        if previous is not None:
            t += -rng.uniform(0.4, 1.5) if rng.random() < m.overlap else rng.uniform(0.2, 0.8)
        start = max(0.5, t)
        place(start, audio, who)
        length = len(audio) / SR
        if rng.random() < m.interject and length > 3:
            other = int(rng.choice([p for p in people if p != who]))
            said[other] += 1
            word = _meeting_clip(m.voices[other], INTERJECTIONS[int(rng.integers(len(INTERJECTIONS)))],
                                 said[other], rng, short=True) * 0.8
            place(start + rng.uniform(1.0, length - 1.5), word, other)
        t, previous = start + length, who
    total = max(s + len(a) / SR for s, a in placed) + 1.0
    mix = np.zeros(int(total * SR), dtype=np.float32)
    for start, audio in placed:
        i = int(start * SR)
        mix[i: i + len(audio)] += audio
    path = ra.write_wav(folder / f"{m.name}.wav", mix)
    turns.sort(key=lambda x: x["start"])
    talk: dict[str, float] = {}
    for turn in turns:
        talk[turn["speaker"]] = talk.get(turn["speaker"], 0.0) + turn["end"] - turn["start"]
    heard = np.zeros(int(total * 100), dtype=int)  # people talking, per 10 ms
    for turn in turns:
        heard[int(turn["start"] * 100): int(turn["end"] * 100)] += 1
    truth = {"audio": path.name, "turns": turns, "duration_s": total,
             "share": {who: round(s / sum(talk.values()), 4) for who, s in sorted(talk.items())},
             "overlapped": round(float(np.mean(heard[heard > 0] > 1)), 3)}
    (folder / f"{m.name}.truth.json").write_text(json.dumps(truth, indent=1))
    return path, truth


def meetings() -> list[Meeting]:
    """The benchmark's meetings: 3 to 5 people talking over each other (12-20 % of the speech),
    three with a short contributor (8 %, 7 %, and 3 %: under the 5 % the count is meant for)."""
    j, f2, m3, lj, li = "joe", "espeak:en-us+f2", "espeak:en-us+m3", "lj", "libri"
    return [
        Meeting("meet3-f2-lj-joe", [f2, lj, j], seed=4),
        Meeting("meet4-joe-f2-lj-m3", [j, f2, lj, m3], seed=1),
        Meeting("meet4-m3-li-joe-f2", [m3, li, j, f2], seed=2),
        Meeting("meet4-short-f2-8pc", [j, lj, m3, f2], lines=28, weights=[3, 3, 3, 1], seed=5),
        Meeting("meet4-short-f2-7pc", [j, lj, m3, f2], lines=28, weights=[3, 3, 3, 1.2], seed=8),
        Meeting("meet4-short-f2-3pc", [j, lj, m3, f2], lines=28, weights=[3, 3, 3, 0.6], seed=5),
        Meeting("meet5", [j, f2, m3, lj, li], lines=30, seed=3),
        Meeting("meet5-dense", [j, f2, m3, lj, li], lines=30, overlap=0.8, interject=0.8, seed=6),
    ]
