"""The data model of one interview, as it flows through the stages.

Every stage takes and returns these dataclasses; only :mod:`pipeline.sidecar`
turns them into JSON (``to_dict``) and back (``Interview.from_dict``).
Times are seconds from the start of the recording.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Optional

# 2: segment language, languages, pipeline.moment_languages; 3: voiceprints;
# 4: a role for every speaker (roles.by_speaker), the talk ratio per side, Moment.also,
#    pipeline.rule_languages
SCHEMA_VERSION = 4
INTERVIEWER = "interviewer"  # the interviewer side: the researcher, a note taker, an observer
INTERVIEWEE = "interviewee"  # the participant side: one or more interviewees
ROLES = (INTERVIEWER, INTERVIEWEE)
ROLE_LABELS = {INTERVIEWER: "Interviewer", INTERVIEWEE: "Interviewee"}  # as people read them (report, exports)


@dataclass
class Recording:
    """The source file as ffprobe saw it."""

    path: str
    sha256: str
    duration_s: float
    channels: int
    sample_rate: int
    codec: str
    has_video: bool = False
    frame_rate: Optional[float] = None
    audio_streams: int = 1  # every audio stream is analysed (stages/tracks.py says how)
    tracks: list[str] = field(default_factory=list)  # a set of per-person files processed as one


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass
class Segment:
    """A stretch of transcript; after alignment, spoken by one speaker."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: Optional[str] = None
    role: Optional[str] = None
    language: Optional[str] = None  # detected per stretch of speech (multilingual models)


@dataclass
class Turn:
    """A stretch of time in which one speaker talks (from diarization)."""

    start: float
    end: float
    speaker: str
    role: Optional[str] = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Silence:
    """A gap where nobody speaks; ``before``/``after`` are roles (or speaker ids, None at the edges)."""

    start: float
    end: float
    duration: float
    before: Optional[str]
    after: Optional[str]
    broken_by: Optional[str]
    kind: str  # leading | trailing | filled | hanging | within


@dataclass
class Handover:
    """An interviewee-to-interviewer handover with a short (or negative: overlap) gap."""

    start: float  # when the interviewee stopped
    end: float  # when the interviewer started
    gap: float  # end - start; negative for an overlap


@dataclass
class Overlap:
    start: float
    end: float
    duration: float
    speakers: list[str]


@dataclass
class Moment:
    start: float
    end: float
    kind: str
    label: str
    role: Optional[str] = None
    text: str = ""
    score: float = 0.0
    source: str = "detected"
    also: list[str] = field(default_factory=list)  # kinds merged into this one: they point at the same sentence
    # a person's own words on it (pipeline/edits): free-form tags and a note; left out of the
    # sidecar when empty, so sidecars without edits read and write exactly as before
    tags: list[str] = field(default_factory=list)
    note: str = ""
    id: str = ""  # a highlight added or changed in the edits file: its id there


@dataclass
class SpeakerStats:
    id: str
    role: Optional[str]
    talk_s: float
    share: float
    turns: int
    words: int
    wpm: float
    longest_monologue_s: float


@dataclass
class TalkRatio:
    interviewee_share: Optional[float]
    target: list[float]
    verdict: str  # below | within | above | unknown
    denominator: str
    interviewer_s: float = 0.0
    interviewee_s: float = 0.0


@dataclass
class RoleAssignment:
    """Who is on which side. ``interviewer`` and ``interviewee`` are the main person of each side
    (the lead researcher; the participant who talks most); ``by_speaker`` gives every speaker's
    role (empty in sidecars before schema 4, where only those two had one)."""

    interviewer: Optional[str]
    interviewee: Optional[str]
    confidence: float
    method: str  # evidence (text) | voice | enrolled-voice | override | single-speaker | none
    evidence: dict[str, Any] = field(default_factory=dict)
    by_speaker: dict[str, str] = field(default_factory=dict)

    def role_of(self, speaker: Optional[str]) -> Optional[str]:
        if speaker is None:
            return None
        if self.by_speaker:
            return self.by_speaker.get(speaker)
        if speaker == self.interviewer:
            return INTERVIEWER
        if speaker == self.interviewee:
            return INTERVIEWEE
        return None

    def side(self, role: str) -> list[str]:
        """The speakers on one side (``INTERVIEWER`` or ``INTERVIEWEE``), the main one first."""
        main = self.interviewer if role == INTERVIEWER else self.interviewee
        found = [s for s, r in self.by_speaker.items() if r == role and s != main]
        return ([main] if main is not None and self.role_of(main) == role else []) + sorted(found)


@dataclass
class Voiceprint:
    """One speaker's voice: the mean of their L2-normalised CAM++ window embeddings.

    ``vector`` is base64 of little-endian float16 (192 values); ``seconds`` is the speech it rests on.
    """

    speaker: str
    seconds: float
    windows: int
    vector: str
    model: str = "campplus"


@dataclass
class PipelineInfo:
    version: str
    asr_model: str
    diarizer: str
    device: str
    compute_type: str
    stage_seconds: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # the Config values that shape results
    moment_languages: list[str] = field(default_factory=lambda: ["en"])  # what cues and highlights read
    # per rule, the languages it reads ({"bookmark_cues": ["en"], "question_kinds": ["en", "de", ...]});
    # empty in sidecars written before it was recorded
    rule_languages: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Interview:
    """Everything known about one recording; the sidecar is its ``to_dict()``."""

    source: Recording
    pipeline: PipelineInfo
    language: Optional[str] = None
    language_probability: Optional[float] = None
    segments: list[Segment] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    speakers: list[SpeakerStats] = field(default_factory=list)
    roles: Optional[RoleAssignment] = None
    talk_ratio: Optional[TalkRatio] = None
    silences: list[Silence] = field(default_factory=list)
    fast_fills: list[Handover] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    voices: list[Voiceprint] = field(default_factory=list)
    # every language spoken, most speech first; added after the others so that positional
    # construction from before schema 2 keeps working
    languages: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    # from the edits file beside the sidecar (pipeline/edits), never written into the sidecar:
    # the names people gave speakers ({"S1": "Dana (researcher)"}) and one line per edit that no
    # longer applies (its words moved when the recording was processed again)
    names: dict[str, str] = field(default_factory=dict)
    edit_notes: list[str] = field(default_factory=list)

    def role_of(self, speaker: Optional[str]) -> Optional[str]:
        """The role of a speaker id, or None when it has none."""
        if speaker is None or self.roles is None:
            return None
        return self.roles.role_of(speaker)

    def name_of(self, speaker: Optional[str]) -> Optional[str]:
        """The name a person gave this speaker (the edits file), else None."""
        return self.names.get(speaker) if speaker is not None else None

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        order = ["schema_version", "source", "pipeline", "language", "language_probability",
                 "languages", "speakers", "roles", "talk_ratio", "turns", "segments", "silences",
                 "fast_fills", "overlaps", "moments", "warnings", "voices"]
        for m in d["moments"]:  # a person's tags, note and id only where there are some
            for key in ("tags", "note", "id"):
                if not m.get(key):
                    m.pop(key, None)
        return {k: d[k] for k in order}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Interview":
        def build(kind, value):
            return None if value is None else kind(**_known(kind, value))

        def segment(s):
            s = dict(s)
            s["words"] = [Word(**_known(Word, w)) for w in s.get("words", [])]
            return Segment(**_known(Segment, s))

        return cls(
            source=build(Recording, d["source"]),
            pipeline=build(PipelineInfo, d["pipeline"]),
            language=d.get("language"),
            language_probability=d.get("language_probability"),
            languages=list(d.get("languages") or ([d["language"]] if d.get("language") else [])),
            segments=[segment(s) for s in d.get("segments", [])],
            turns=[build(Turn, t) for t in d.get("turns", [])],
            speakers=[build(SpeakerStats, s) for s in d.get("speakers", [])],
            roles=build(RoleAssignment, d.get("roles")),
            talk_ratio=build(TalkRatio, d.get("talk_ratio")),
            silences=[build(Silence, s) for s in d.get("silences", [])],
            fast_fills=[build(Handover, h) for h in d.get("fast_fills", [])],
            overlaps=[build(Overlap, o) for o in d.get("overlaps", [])],
            moments=[build(Moment, m) for m in d.get("moments", [])],
            warnings=list(d.get("warnings", [])),
            voices=[build(Voiceprint, v) for v in d.get("voices", [])],
            schema_version=d.get("schema_version", SCHEMA_VERSION),
        )


def _plain(value: Any) -> Any:
    """Like ``dataclasses.asdict`` (field order kept) but several times faster on long transcripts."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in vars(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _known(kind, value: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys ``kind`` has as fields (tolerates newer sidecars)."""
    names = _field_names(kind)
    return value if names.issuperset(value) else {k: v for k, v in value.items() if k in names}


@lru_cache(maxsize=None)
def _field_names(kind) -> frozenset[str]:  # once per class: a sidecar has thousands of words
    return frozenset(f.name for f in fields(kind))
