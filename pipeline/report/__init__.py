"""Static HTML report over interview sidecars: ``ivp report DIR`` and :func:`build_report`."""
from .build import BuildResult, build, build_report, default_out_dir, find_sidecars

__all__ = ["BuildResult", "build", "build_report", "default_out_dir", "find_sidecars"]
