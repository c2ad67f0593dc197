"""One exception type per failure kind, each carrying the file and a one-line reason."""
from __future__ import annotations

from typing import Optional

from .terminal import display


class PipelineError(Exception):
    """A failure on one file; ``str(err)`` is the one line the CLI prints."""

    stage = "pipeline"

    def __init__(self, path: Optional[str], reason: str, stage: Optional[str] = None):
        self.path = path
        self.reason = " ".join(str(reason).split())  # always one line
        if stage:
            self.stage = stage
        super().__init__(self.line())

    def line(self) -> str:
        """``<file>: <stage>: <reason>``, the file name escaped so it stays one line."""
        where = f"{display(self.path)}: " if self.path else ""
        return f"{where}{self.stage}: {self.reason}"


class InputError(PipelineError):
    """The file cannot be read at all (missing, unreadable, empty)."""

    stage = "input"


class DecodeError(PipelineError):
    """ffprobe/ffmpeg could not read audio from the file."""

    stage = "decode"


class NoAudioStream(DecodeError):
    """The file is a valid container without an audio track."""


class ModelError(PipelineError):
    """A model (ASR or diarization) is missing or failed to load."""

    stage = "model"


class TranscribeError(PipelineError):
    stage = "transcribe"


class DiarizeError(PipelineError):
    stage = "diarize"


class ConfigError(PipelineError):
    stage = "config"


class OutputError(PipelineError):
    """The output cannot be written (read-only, full, outside the output folder): not the file's fault."""

    stage = "output"


class SidecarError(PipelineError, ValueError):
    """A sidecar that cannot be used: not JSON, from a newer ivp, outside the schema or its bounds."""

    stage = "sidecar"


class NewerSidecar(SidecarError):
    """A sidecar written by a newer ivp (a higher ``schema_version``): read by nothing, replaced by nothing."""
