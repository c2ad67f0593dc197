"""``ivp serve FOLDER``: the report's pages as a small local web application where a person
corrects and annotates (names, roles, words, highlights, themes), each change saved at once
through the edits layer (:mod:`pipeline.edits`). See :mod:`.app` and docs/edits.md."""
