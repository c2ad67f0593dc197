"""The report's numbers now live in :mod:`pipeline.metrics` (one place for what people read);
this name stays for code that still imports ``pipeline.report.metrics``."""
from __future__ import annotations

from ..metrics import *  # noqa: F401,F403
from ..metrics import __all__  # noqa: F401
