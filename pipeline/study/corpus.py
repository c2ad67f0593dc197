"""What the study keeps from one sidecar: the recording's facts and its sentences with word times.

Pure functions over an :class:`~pipeline.interview.Interview` (read from its sidecar elsewhere).
A sentence is :mod:`pipeline.text`'s unit; its text is its words joined by
single spaces, and ``words`` holds each word's start, end and character offset in that text, so a
search hit can say when the matched word was spoken. ``salience`` ranks the interviewee's
sentences as theme candidates: inside a highlight (wish, pain point, workaround ...) counts most,
then how many content words it has; greetings, thanks and small talk score 0.
"""
from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..interview import INTERVIEWEE, INTERVIEWER, Interview
from .. import metrics
from ..recording import media
from ..recording.dates import recording_date
from ..stages.voices import MIN_SECONDS
from ..text import sentence_ends, spread

MAX_HIGHLIGHT_S = 600.0  # no highlight is longer (the moments stage keeps them under 90 s)
MIN_WORDS = 6  # shorter sentences are searchable but never theme candidates
MIN_CONTENT_WORDS = 3
STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing don't down during each few for from further had
has have having he her here hers him his how i i'd i'll i'm i've if in into is it it's its itself just like
me more most my no nor not now of off on once only or other our ours out over own really right same she
should so some such than that that's the their them then there there's these they they're this those
through to too under until up us very was we we're were what when where which while who whom why will
with would you you're your yeah yes okay ok um uh mm hmm oh well kind sort thing things lot get got go
going know mean think guess maybe actually basically pretty much also still even""".split())
SMALL_TALK = re.compile(
    r"\b(weather|rain(ing|y)?|sunny|snow(ing)?|weekend|holiday|vacation|good (morning|afternoon|evening)|"
    r"nice to (meet|see)|thanks? (you )?for (having|inviting|joining)|my pleasure|happy to help|"
    r"can you hear me|you'?re on mute|hear you|see my screen|how are you|how'?s it going|"
    r"no worries|sounds good|see you|bye|coffee|lunch|traffic|commute)\b", re.I)
_WORD = re.compile(r"[a-z][a-z'\-]*")


@dataclass
class Sentence:
    start: float
    end: float
    role: Optional[str]
    speaker: Optional[str]
    text: str
    words: list[tuple[float, float, int]]  # (start, end, char offset) per word
    hash: str  # of the normalised text: the embedding cache key (themes, search by meaning)
    salience: float = 0.0
    kind: str = ""  # the highlight kind it falls in, if any (theme candidates only)
    tags: list[str] = field(default_factory=list)  # of every highlight over it (metrics.tags)


@dataclass
class Doc:
    """One interview as the study sees it (kept as JSON in the index)."""

    name: str  # the recording's path relative to the study folder (posix)
    recording: str  # absolute path of the recording as found (beside the sidecar or source.path)
    date: str
    duration: float
    has_video: bool
    frame_rate: Optional[float]
    interviewer: str  # who asked: the folder; progress.rows regroups by voice where there is one
    stats: dict = field(default_factory=dict)
    interviewer_voice: Optional[dict] = None  # {"name": enrolled name} or {"vector": base64 print}
    sha256: Optional[str] = None  # the recording's: identical copies are one interview
    names: dict = field(default_factory=dict)  # speaker id -> the name a person gave (pipeline.edits)

    def to_dict(self) -> dict:
        return asdict(self)


def text_hash(text: str) -> str:
    norm = " ".join(_WORD.findall(text.lower()))
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:20]


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower().replace("\u2019", "'")) if w not in STOPWORDS and len(w) > 2]


def sentences(iv: Interview) -> list[Sentence]:
    """Every sentence of the transcript in time order, with word offsets, salience and kind.

    Segments are cut where a sentence ends (:func:`pipeline.text.sentence_ends`); a segment
    without word times shares its time out by character count."""
    spans = sorted(((m.start, m.end, m.kind, float(m.score or 0.0)) for m in iv.moments
                    if not metrics.is_coaching(m) and m.role in (None, INTERVIEWEE)))
    tagged = [(m.start, m.end, metrics.tags(m)) for m in metrics.highlights(iv)]
    starts = [h[0] for h in spans]
    need_role = bool(iv.roles and iv.roles.interviewer)
    out: list[Sentence] = []
    for seg in sorted(iv.segments, key=lambda s: (s.start, s.end)):
        role = seg.role or iv.role_of(seg.speaker)
        if seg.words:
            tokens = [(w.start, w.end, w.word.strip()) for w in seg.words]
        else:
            tokens = [(t.start, t.end, t.text) for t in spread(seg.start, seg.end, seg.text)]
        tokens = [t for t in tokens if t[2]]
        first = 0
        for end in sentence_ends([t[2] for t in tokens], seg.language or iv.language):
            out.append(_sentence(tokens[first:end + 1], role, seg.speaker, spans, starts, need_role))
            first = end + 1
    for s in out:
        mid = (s.start + s.end) / 2
        s.tags = sorted({t for start, end, ts in tagged if start - 0.05 <= mid <= end + 0.05 for t in ts})
    return out


def _sentence(tokens, role, speaker, spans, starts, need_role) -> Sentence:
    words, offset = [], 0
    for start, end, text in tokens:
        words.append((start, end, offset))
        offset += len(text) + 1
    text = " ".join(t[2] for t in tokens)
    s = Sentence(round(tokens[0][0], 3), round(tokens[-1][1], 3), role, speaker, text, words, text_hash(text))
    if need_role and role != INTERVIEWEE:
        return s
    if len(words) < MIN_WORDS or text.endswith("?") or SMALL_TALK.search(text):
        return s
    content = content_words(text)
    if len(content) < MIN_CONTENT_WORDS:
        return s
    score, kind = min(1.0, len(content) / 12.0) * 0.5, ""
    mid = (s.start + s.end) / 2
    i = bisect.bisect_right(starts, mid + 0.05) - 1
    while i >= 0 and spans[i][0] >= mid - MAX_HIGHLIGHT_S:  # the highlights that may cover ``mid``
        h_start, h_end, h_kind, h_score = spans[i]
        if mid <= h_end + 0.05:
            score, kind = score + 0.5 + 0.5 * h_score, h_kind
            break
        i -= 1
    s.salience, s.kind = round(score, 4), kind
    return s


def recording_of(iv: Interview, sidecar: Path, root: Path) -> Path:
    """The recording (:func:`pipeline.recording.media.recording_of`: beside the sidecar, else
    ``source.path`` inside the study folder or of the same bytes); else the name beside the
    sidecar, which does not exist, so nothing outside the folder is ever cut into a reel."""
    src = Path(iv.source.path) if iv.source and iv.source.path else sidecar
    found = media.recording_of(sidecar, str(src), root, iv.source.sha256 if iv.source else "")
    return found or sidecar.parent / src.name


def doc(iv: Interview, sidecar: Path, root: Path) -> Doc:
    """The facts and the interviewer's numbers of one interview."""
    rec = recording_of(iv, sidecar, root)
    try:
        folder = sidecar.parent.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        folder = "."
    rel = rec.name if folder in ("", ".") else f"{folder}/{rec.name}"
    return Doc(name=rel, recording=str(rec.resolve() if rec.exists() else rec), date=recording_date(iv, sidecar, rec if rec.is_file() else None),
               duration=round(metrics.duration(iv), 3), has_video=bool(iv.source and iv.source.has_video),
               frame_rate=iv.source.frame_rate if iv.source else None,
               interviewer=root.resolve().name if folder in ("", ".") else folder, stats=interviewer_stats(iv),
               interviewer_voice=interviewer_voice(iv), sha256=iv.source.sha256 if iv.source else None,
               names=dict(iv.names))


def interviewer_voice(iv: Interview) -> Optional[dict]:
    """The interviewer's voice of one interview: an enrolled voice's name, else their voiceprint
    (when it rests on enough speech to be matched across interviews)."""
    r = iv.roles
    if r is None or not r.interviewer:
        return None
    voice = r.evidence.get("voice") or {}
    if voice.get("kind") == "enrolled" and voice.get("name"):
        return {"name": voice["name"]}
    vp = next((v for v in iv.voices if v.speaker == r.interviewer and v.seconds >= MIN_SECONDS), None)
    return {"vector": vp.vector} if vp else None


def interviewer_stats(iv: Interview) -> dict:
    """The interviewer's numbers for one interview (from the sidecar's own analysis)."""
    low, high = metrics.target(iv)
    asked = metrics.question_kinds(iv)  # the one question rule (pipeline/text.py)
    long = metrics.long_silences(iv)
    held = sum(1 for s in long if s.broken_by == INTERVIEWEE)
    filled = sum(1 for s in long if s.broken_by == INTERVIEWER)
    return {"share": metrics.share(iv), "target": [low, high], "verdict": metrics.verdict(iv),
            "questions": asked["questions"], "closed": asked["closed"], "leading": asked["leading"],
            "open": asked["open"], "silences_held": held,
            "silences_filled": filled, "fast_fills": len(iv.fast_fills)}
