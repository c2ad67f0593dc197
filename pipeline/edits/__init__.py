"""The edits layer: what a person corrected and marked, kept beside a recording's sidecar in
``<stem>.edits.json`` and applied on top of every sidecar read (docs/edits.md).

* :mod:`.file`  - where the file is, its version and schema, reading it (a damaged or newer file
  is never applied and never overwritten);
* :mod:`.words` - a sentence's words corrected, new words timed by alignment to the old ones;
* :mod:`.apply` - the whole file applied to an :class:`~pipeline.interview.Interview` (names,
  words, highlights), with one note per edit that no longer applies;
* :mod:`pipeline.edits_store` (beside this package, above ``sidecar``) - each change saved under
  the sidecar folder's lock, atomically.

Reprocessing (``ivp process --force``, ``ivp watch``) writes the sidecar only, never this file.
Role fixes are ``ivp roles``'s (``roles_cli.fix_roles``, kept in the sidecar's
``roles.evidence.override`` and carried across reprocessing by ``stages.voices.carry_override``);
theme renames, merges and hides are the study's ``study.toml`` (``study.studytoml``).
"""
