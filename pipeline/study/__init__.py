"""Across interviews: themes, a searchable quote bank, highlight reels and the interviewer's progress.

Reads sidecars only; its index and caches live in ``FOLDER/.ivp/`` beside the watcher's ledger.

=============== ===============================================================================
module          job
=============== ===============================================================================
``corpus``      one sidecar -> the recording's facts and its sentences with word times
``index``       the quote bank (SQLite FTS5, incremental) and the embedding cache
``embed``       offline sentence embeddings (MiniLM int8 ONNX), assembled like the Whisper models
``themes``      candidates -> clusters -> themes
``names``       a theme's name: key phrases by c-TF-IDF, re-ranked by meaning with diversity
``studytoml``   rename / merge / hide themes in ``study.toml``; ids carried across builds
``progress``    the interviewer's numbers per interview, CSV
``reel``        highlight reels: one editor timeline over several recordings, or one media file
``build``       the whole study -> ``study.json`` and ``progress.csv``
=============== ===============================================================================
"""
from __future__ import annotations

from .build import Study, build_study, refresh

__all__ = ["Study", "build_study", "refresh"]
