"""A folder of interviews as a REFI-QDA project (``.qdpx``), the exchange format MAXQDA, NVivo,
ATLAS.ti and QualCoder import (QDA-XML Project schema 1.0, www.qdasoftware.org).

The ``.qdpx`` is a zip: ``project.qde`` (the XML) and ``Sources/<guid>.txt``. For each interview
(identical copies once) it holds:

* a **text source**: the transcript laid out as the ``txt`` export lays it out
  (:func:`pipeline.export.documents.transcript`), its sentences the units that are coded;
* an **audio or video source** linking the recording (``relative://`` to the project's
  ``basePath``, the folder) with the same transcript and a sync point (time, character) per turn;
* **coded segments** on the text: each turn coded with its speaker, each highlight's sentences
  with its kind (and its tags), each theme quote with its theme;
* a **case** per speaker of each interview, holding that speaker's turns.

The code system has four groups: Speakers, Themes, Highlights and Tags. GUIDs are derived from
names (uuid5), so the same folder gives the same project: re-exporting is idempotent.
"""
from __future__ import annotations

import io
import uuid
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .. import metrics
from .. import sidecar as sidecars
from ..recording.outputs import atomic_write_bytes
from ..errors import SidecarError
from ..interview import Interview
from ..recording import display, firsts
from ..stages.moments import KINDS
from ..export.documents import transcript
from . import corpus
from .build import DEFAULT_DIRNAME, build_study

NS = "urn:QDA-XML:project:1.0"
SCHEMA_LOCATION = f"{NS} http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
ORIGIN = "ivp"
_ROOT = uuid.UUID("0b6a1c4e-6d1f-5b0e-9a53-6976702d7164")  # ivp's namespace for name-derived GUIDs
GROUPS = ("Speakers", "Themes", "Highlights", "Tags")
COLORS = {"Speakers": "#607d8b", "Themes": "#2e7d32", "Highlights": "#b26a00", "Tags": "#2b7bd9"}


def guid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "\x1f".join(parts)))


@dataclass
class Project:
    """What goes in: codes by (group, name) and the interviews with their coded character spans."""

    name: str
    base: Path
    codes: dict[tuple[str, str], str] = field(default_factory=dict)  # (group, name) -> guid
    sources: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def code(self, group: str, name: str) -> str:
        return self.codes.setdefault((group, name), guid("code", group, name))


def default_path(folder: Path) -> Path:
    return Path(folder) / DEFAULT_DIRNAME / f"{display(Path(folder).resolve().name) or 'interviews'}.qdpx"


def write_project(folder: Path, out: Optional[Path] = None) -> tuple[Path, list[str]]:
    """Write the project of every sidecar under ``folder``; (its path, warnings)."""
    folder = Path(folder)
    study = build_study(folder)  # the themes (and a fresh index); warns, never fails, without a model
    project = collect(folder, study.data.get("themes", []))
    project.warnings = list(study.data.get("warnings", [])) + project.warnings
    path = Path(out) / default_path(folder).name if out else default_path(folder)
    atomic_write_bytes(path, to_qdpx(project))
    return path, project.warnings


def collect(folder: Path, themes: list[dict]) -> Project:
    """Read the sidecars under ``folder`` (through the one reader) into a :class:`Project`."""
    project = Project(display(folder.resolve().name) or "interviews", folder.resolve())
    for g in GROUPS:
        project.code("", g)
    paths, _ = sidecars.find_sidecars(folder, exclude=folder / DEFAULT_DIRNAME)
    read: list[tuple[Path, Interview]] = []
    for path in paths:
        try:
            read.append((path, sidecars.read(path)))
        except SidecarError as exc:  # one line, the rest exported
            project.warnings.append(exc.line())
    read.sort(key=lambda pi: str(pi[0]))
    first = firsts(iv.source.sha256 if iv.source else None for _p, iv in read)
    quotes: dict[str, list[tuple[float, str]]] = {}
    for t in themes:
        for q in t.get("quotes", []):
            quotes.setdefault(q["interview"], []).append((q["start"], t["name"]))
    for k, (path, iv) in enumerate(read):
        if first[k] != k:
            continue  # an identical copy: the first one stands for it
        project.sources.append(_source(project, folder, path, iv, quotes))
    return project


def _source(project: Project, folder: Path, path: Path, iv: Interview, quotes: dict) -> dict:
    doc = corpus.doc(iv, path, folder)
    media = Path(doc.recording)
    try:
        rel = media.resolve().relative_to(project.base).as_posix()
    except ValueError:
        rel = ""
    ts = transcript(iv, title=doc.name)
    coded: dict[tuple[int, int], set[str]] = {}
    for start, end, pos, stop, speaker in ts.spans:  # every sentence coded with its speaker
        coded.setdefault((pos, stop), set()).add(project.code("Speakers", speaker))
    for m in metrics.highlights(iv):
        span = _chars(ts.spans, m.start, m.end)
        if span is None:
            continue
        for kind in (m.kind, *m.also):  # a merged moment (one clip) carries every kind found on it
            coded.setdefault(span, set()).add(project.code("Highlights", KINDS.get(kind, kind)))
        kinds = {metrics.tag_key(k) for k in (m.kind, *m.also)}
        for tag in metrics.tags(m):
            if tag not in kinds:
                coded[span].add(project.code("Tags", tag))
    for start, theme in quotes.get(doc.name, []):
        span = next(((p, s) for a, _b, p, s, _w in ts.spans if abs(a - start) < 0.002), None)
        if span:
            coded.setdefault(span, set()).add(project.code("Themes", theme))
    return {"name": doc.name, "guid": guid("source", doc.name), "media_guid": guid("media", doc.name),
            "video": doc.has_video, "media": rel or media.as_posix(), "relative": bool(rel), "date": doc.date,
            "duration": doc.duration, "text": ts.text, "turns": ts.turns, "coded": coded,
            "speakers": sorted({w for *_x, w in ts.spans})}


def _chars(spans, start: float, end: float) -> Optional[tuple[int, int]]:
    """The characters of the sentences spoken during [start, end] (overlapping it by 50 ms or more)."""
    inside = [(p, s) for a, b, p, s, _w in spans if min(b, end) - max(a, start) >= 0.05]
    return (inside[0][0], inside[-1][1]) if inside else None


# ------------------------------------------------------------------------------------------- XML

def _el(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})


def to_qde(project: Project) -> bytes:
    """``project.qde``: the project as QDA-XML."""
    ET.register_namespace("", NS)
    user = guid("user", ORIGIN)
    root = ET.Element(f"{{{NS}}}Project", {"name": project.name, "origin": ORIGIN, "creatingUserGUID": user,
                                            "basePath": project.base.as_posix(),
                                            "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation": SCHEMA_LOCATION})
    _el(_el(root, "Users"), "User", guid=user, name=ORIGIN, id=ORIGIN)
    codes = _el(_el(root, "CodeBook"), "Codes")
    for g in GROUPS:
        parent = _el(codes, "Code", guid=project.code("", g), name=g, isCodable="false", color=COLORS[g])
        for (group, name), code_guid in sorted(project.codes.items()):
            if group == g:
                _el(parent, "Code", guid=code_guid, name=name, isCodable="true", color=COLORS[g])
    speaker_code = {guid_: name for (group, name), guid_ in project.codes.items() if group == "Speakers"}
    cases = _el(root, "Cases") if project.sources else None
    sources = _el(root, "Sources") if project.sources else None
    for src in project.sources:
        text = _el(sources, "TextSource", guid=src["guid"], name=src["name"],
                   plainTextPath=f"internal://{src['guid']}.txt", creatingUser=user)
        _el(text, "Description").text = (f"Transcript of {src['name']} ({src['date']}, {src['duration']:.0f} s) "
                                          f"made by ivp; the recording: {src['media']}")
        by_speaker: dict[str, list[str]] = {}
        for (start, end), code_guids in sorted(src["coded"].items()):
            sel_guid = guid("selection", src["name"], str(start), str(end))
            sel = _el(text, "PlainTextSelection", guid=sel_guid, name=src["text"][start:end][:60],
                      startPosition=start, endPosition=end, creatingUser=user)
            for code_guid in sorted(code_guids):
                coding = _el(sel, "Coding", guid=guid("coding", sel_guid, code_guid), creatingUser=user)
                _el(coding, "CodeRef", targetGUID=code_guid)
                if code_guid in speaker_code:
                    by_speaker.setdefault(speaker_code[code_guid], []).append(sel_guid)
        media = _el(sources, "VideoSource" if src["video"] else "AudioSource", guid=src["media_guid"],
                    name=src["name"], path=("relative://" if src["relative"] else "absolute://") + src["media"],
                    creatingUser=user)
        tr = _el(media, "Transcript", guid=guid("transcript", src["name"]), name=f"{src['name']} transcript",
                 plainTextPath=f"internal://{src['guid']}.txt", creatingUser=user)
        for t, pos in src["turns"]:
            _el(tr, "SyncPoint", guid=guid("sync", src["name"], str(pos)), timeStamp=int(round(t * 1000)), position=pos)
        for speaker in src["speakers"]:
            case = _el(cases, "Case", guid=guid("case", src["name"], speaker), name=f"{src['name']}: {speaker}")
            _el(case, "SourceRef", targetGUID=src["guid"])
            for sel_guid in by_speaker.get(speaker, []):
                _el(case, "SelectionRef", targetGUID=sel_guid)
    _el(root, "Description").text = "Interviews transcribed, diarized and coded by ivp (themes, highlights, tags)."
    ET.indent(root, space=" ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def to_qdpx(project: Project) -> bytes:
    """The ``.qdpx`` zip: ``project.qde`` and each transcript as ``Sources/<guid>.txt``; entries
    carry a fixed time, so the same project gives the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(2019, 3, 18, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        add("project.qde", to_qde(project))
        for src in project.sources:
            add(f"Sources/{src['guid']}.txt", src["text"].encode("utf-8", errors="backslashreplace"))
    return buf.getvalue()
