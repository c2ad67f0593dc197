"""Exports of a processed interview that editors and players import directly.

A registry of small writer classes chosen by name (``WRITERS``), each turning one sidecar's
interview into files next to it (or in ``out_dir``):

======== ======================= ==========================================================
name     file                    what
======== ======================= ==========================================================
srt      <stem>.srt              transcript subtitles, speaker role on each change
vtt      <stem>.vtt              transcript subtitles with ``<v interviewer>`` voice tags
chapters <stem>.chapters.vtt     WebVTT chapters track from the moments
edl      <stem>.edl              CMX3600 EDL, moments as LOC markers (DaVinci Resolve)
fcpxml   <stem>.fcpxml           Final Cut Pro XML, moments as markers on the clip
premiere <stem>.premiere.xml     FCP7 XML (xmeml) for Premiere Pro, sequence and clip markers
audacity <stem>.labels.txt       Audacity label track
youtube  <stem>.youtube.txt      YouTube chapter list
csv      <stem>.moments.csv      one row per moment
txt      <stem>.transcript.txt   the transcript as text: a paragraph per turn, time and speaker
docx     <stem>.transcript.docx  the same as a Word document (python-docx)
clips    <stem>_clips/           one media clip per moment, 2 s padding
======== ======================= ==========================================================

To add a format: subclass :class:`Writer` in a module here, decorate it with ``@register`` and
import the module below.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Union

from ..interview import Interview
from ..recording import guard
from .base import (WRITERS, ExportError, ExportJob, Timebase, Writer, get_writer, parse_formats,
                   parse_kinds, register, select_moments, timebase)
from . import text, editors, clips, documents  # noqa: E402,F401  (each registers its writers)

FORMATS = tuple(WRITERS)


def write_exports(interview: Interview, sidecar_path: Union[str, Path], formats: Union[str, Iterable[str]],
                  out_dir: Optional[Union[str, Path]] = None, kinds: Union[None, str, Iterable[str]] = None,
                  top: Optional[int] = None, root: Optional[Union[str, Path]] = None,
                  tree: Optional[Union[str, Path]] = None) -> list[Path]:
    """Write each of ``formats`` (names, or one comma-separated string) for one interview.

    Outputs are named from the sidecar (``<stem>.interview.json`` gives ``<stem>.srt`` ...) and go
    beside it unless ``out_dir`` is given. ``kinds`` (kind or group names) and ``top`` (the best N
    by score) choose the moments; they do not change the transcript formats (srt, vtt). Without
    ``kinds``, chapters, youtube and clips take bookmarks and highlights, the others every kind.
    Nothing is written or deleted through a link leaving ``root`` (default: the output folder), and
    media are cut only from inside ``tree`` (default: the sidecar's folder) or from the very
    recording the sidecar describes (:mod:`pipeline.recording.guard`, :mod:`pipeline.recording.media`).
    Raises :class:`ExportError` (a ``PipelineError``) for an unknown format or kind, or a failure.
    """
    names = parse_formats(formats)
    parse_kinds(kinds)  # an unknown kind fails before anything is written
    sidecar_path = Path(sidecar_path)
    folder = Path(out_dir) if out_dir else sidecar_path.parent
    root = Path(root) if root is not None else folder
    guard.folder(folder, root)
    written: list[Path] = []
    for name in names:
        writer = get_writer(name)
        chosen = kinds if kinds is not None else writer.default_kinds
        job = ExportJob(interview, sidecar_path, folder, select_moments(interview.moments, chosen, top),
                        root, Path(tree) if tree is not None else None)
        try:
            written += writer.write(job)
        except ExportError as exc:
            if exc.path is None:
                exc.path = str(sidecar_path)
                exc.args = (exc.line(),)
            raise
        except OSError as exc:
            raise ExportError(str(sidecar_path), f"{name}: {exc.strerror or exc}") from exc
    return written


__all__ = ["write_exports", "WRITERS", "FORMATS", "Writer", "ExportJob", "ExportError", "Timebase", "register",
           "get_writer", "parse_formats", "parse_kinds", "select_moments", "timebase"]
