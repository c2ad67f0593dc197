"""Process many recordings: find them, skip the up-to-date ones, isolate failures, write sidecars."""
from __future__ import annotations

import json
import traceback as tb
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import sidecar
from .config import Config, load_folder_config
from .errors import ModelError, PipelineError
from .interview import Interview
from .stages.decode import is_media_file, sha256_file

PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial")


@dataclass
class BatchResult:
    path: Path
    sidecar: Optional[Path] = None
    interview: Optional[Interview] = None
    error: Optional[str] = None
    skipped: bool = False
    traceback: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        ratio = self.interview.talk_ratio if self.interview else None
        return {"path": str(self.path), "ok": self.ok, "skipped": self.skipped,
                "sidecar": str(self.sidecar) if self.sidecar else None,
                "interviewee_share": ratio.interviewee_share if ratio else None,
                "verdict": ratio.verdict if ratio else None,
                "warnings": self.interview.warnings if self.interview else [],
                "error": self.error}

    def summary(self) -> str:
        """A few human lines about one processed recording."""
        iv = self.interview
        if iv is None:
            return f"{self.path.name}: {'up to date' if self.skipped else 'no result'}"
        lines = [f"{self.path.name} ({_clock(iv.source.duration_s)}, {iv.pipeline.asr_model}, "
                 f"{iv.pipeline.diarizer})" + ("  [up to date, skipped]" if self.skipped else "")]
        r = iv.roles
        if r and r.interviewer:
            lines.append(f"  roles: interviewer {r.interviewer}, interviewee {r.interviewee} "
                         f"({r.method}, confidence {r.confidence:.2f})")
        ratio = iv.talk_ratio
        if ratio and ratio.interviewee_share is not None:
            low, high = ratio.target
            lines.append(f"  talk ratio: interviewee {ratio.interviewee_share:.1%} of speech "
                         f"({ratio.verdict} the {low:.0%}-{high:.0%} target); "
                         f"interviewer {ratio.interviewer_s:.0f}s, interviewee {ratio.interviewee_s:.0f}s")
        inner = [s for s in iv.silences if s.kind in ("filled", "held", "pause")]
        held = sum(1 for s in inner if s.kind == "held")
        filled = sum(1 for s in inner if s.kind == "filled")
        lines.append(f"  silences: {len(inner)} pauses of {iv.pipeline.settings.get('min_silence_s', 1.0)}s+ "
                     f"(interviewee broke {held}, interviewer filled {filled}); "
                     f"fast fills: {len(iv.fast_fills)}")
        if iv.moments:
            lines.append(f"  moments: {len(iv.moments)}")
        for warning in iv.warnings:
            lines.append(f"  warning: {warning}")
        if self.sidecar:
            lines.append(f"  -> {self.sidecar}")
        return "\n".join(lines)


def is_candidate(path: Path) -> bool:
    """A media file that is not hidden, partial, temporary or one of our outputs."""
    name = path.name
    if name.startswith((".", "~$")) or name.lower().endswith(PARTIAL_SUFFIXES):
        return False
    return is_media_file(path)


def find_recordings(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files named directly, plus media files under folders (recursively, hidden dirs skipped)."""
    files: list[Path] = []
    missing: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith(".") for p in rel[:-1]) and is_candidate(child):
                    files.append(child)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            missing.append(path)
    return sidecar.unique_paths(files), missing


def up_to_date(out: Path, sha: str, config: Config) -> Optional[Interview]:
    """The existing sidecar when it was made from the same bytes with the same settings."""
    if not out.is_file():
        return None
    try:
        existing = sidecar.read(out)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    same_settings = json.loads(json.dumps(config.signature())) == existing.pipeline.settings
    return existing if existing.source.sha256 == sha and same_settings else None


def process_batch(files: list[Path], overrides: dict[str, Any], out_dir: Optional[Path] = None,
                  force: bool = False, progress: bool = False,
                  on_result: Optional[Callable[[BatchResult], None]] = None) -> list[BatchResult]:
    """Process each file; one file's failure never stops the others."""
    from .progress_bar import BatchProgress
    from .runner import Pipeline

    pipelines: dict[Config, Pipeline] = {}
    results = []
    with BatchProgress(len(files), enabled=progress) as bar:
        for path in files:
            result = BatchResult(path)
            try:
                config = load_folder_config(path.parent).with_overrides(**overrides).validate()
                out = sidecar.sidecar_path(path, out_dir)
                result.sidecar = out
                sha = _sha(path)
                existing = None if force else up_to_date(out, sha, config)
                if existing is not None:
                    result.interview, result.skipped = existing, True
                    _refresh_marks(existing, path, config, out)
                else:
                    if config not in pipelines:
                        pipelines[config] = Pipeline(config, bar.hook)
                    result.interview = pipelines[config].process(path, sha)
                    sidecar.write(result.interview, out)
            except ModelError:
                raise  # the models, not this file: every other file would fail the same way
            except PipelineError as exc:
                if exc.path is None:
                    exc.path = str(path)
                result.error, result.sidecar = exc.line(), None
            except Exception as exc:  # never let one file stop the batch
                result.error = f"{path}: internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"
                result.sidecar, result.traceback = None, tb.format_exc()
            bar.file_done(path)
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _refresh_marks(interview: Interview, recording: Path, config: Config, out: Path) -> None:
    """An up-to-date sidecar still picks up a marker file edited since (no re-transcription)."""
    from .stages import moments
    if not moments.marker_files(recording) and not any(m.source == "marker_file" for m in interview.moments):
        return
    before = (list(interview.moments), list(interview.warnings))
    moments.refresh_moments(interview, config, recording)
    if (interview.moments, interview.warnings) != before:
        sidecar.write(interview, out)


def _sha(path: Path) -> str:
    from .stages.decode import check_readable
    check_readable(path)
    try:
        return sha256_file(path)
    except OSError as exc:
        from .errors import InputError
        raise InputError(str(path), exc.strerror or str(exc)) from exc


def _clock(seconds: float) -> str:
    seconds = int(round(seconds or 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
