#!/usr/bin/env python
"""Question kinds benchmark: :func:`pipeline.text.classify_all` against the labelled questions in
``tests/data/questions/<lang>.jsonl`` (see the README there), on the held-out part by default.

    python scripts/bench_questions.py [--split heldout|fresh|fresh2|tune|all] [--json bench_out/bench_questions.json]

Prints, per language, each kind's precision and recall and the share of open questions wrongly
flagged (called closed or leading). Targets (issue #20): leading and closed recall >= 0.9, open
wrongly flagged <= 5 %. ``heldout``, ``fresh`` and ``fresh2`` are never tuned on (the fresh parts were
written after the rules were frozen); with ``--errors`` it lists the questions it got wrong.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.text import QUESTION_KINDS, classify_all  # noqa: E402

DATA = ROOT / "tests" / "data" / "questions"
LANGUAGES = ("en", "de", "es", "fr")
TARGETS = {"leading_recall": 0.9, "closed_recall": 0.9, "open_wrongly_flagged": 0.05}


def rows(language: str, split: str = "heldout") -> list[dict]:
    """The labelled rows of ``language`` in ``split`` ("all": both parts)."""
    out = []
    for line in (DATA / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if split == "all" or row["split"] == split:
                out.append(row)
    return out


def pairs(labelled: list[dict], language: str) -> list[tuple[str, str, str]]:
    """(labelled kind, classified kind, question) per question; a row the classifier cuts into a
    different number of questions counts each labelled one as ``"missed"`` or wrong."""
    out = []
    for row in labelled:
        got = [a.kind for a in classify_all(row["text"], language)]
        if len(got) != len(row["kinds"]):
            got = ["missed"] * len(row["kinds"])
        out += [(want, have, row["text"]) for want, have in zip(row["kinds"], got)]
    return out


def measure(labelled: list[dict], language: str) -> dict:
    """Per kind precision, recall and count; ``open_wrongly_flagged``; ``accuracy``; ``errors``."""
    ps = pairs(labelled, language)
    out: dict = {"questions": len(ps)}
    for kind in QUESTION_KINDS:
        tp = sum(1 for w, h, _ in ps if w == kind and h == kind)
        said = sum(1 for _, h, _ in ps if h == kind)
        true = sum(1 for w, _, _ in ps if w == kind)
        out[kind] = {"n": true, "precision": round(tp / said, 3) if said else None,
                     "recall": round(tp / true, 3) if true else None}
    opens = [h for w, h, _ in ps if w == "open"]
    out["open_wrongly_flagged"] = round(sum(h in ("closed", "leading") for h in opens) / len(opens), 3) if opens else None
    out["accuracy"] = round(sum(w == h for w, h, _ in ps) / len(ps), 3) if ps else None
    out["errors"] = [{"text": t, "labelled": w, "classified": h} for w, h, t in ps if w != h]
    return out


def meets(m: dict) -> dict[str, bool]:
    return {"leading_recall": (m["leading"]["recall"] or 0) >= TARGETS["leading_recall"],
            "closed_recall": (m["closed"]["recall"] or 0) >= TARGETS["closed_recall"],
            "open_wrongly_flagged": (m["open_wrongly_flagged"] or 0) <= TARGETS["open_wrongly_flagged"]}


def _fmt(v) -> str:
    return "  -  " if v is None else f"{v:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="heldout", choices=("heldout", "fresh", "fresh2", "tune", "all"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--errors", action="store_true", help="list the questions classified wrong")
    args = ap.parse_args(argv)

    report = {}
    print(f"question kinds on the {args.split} part (targets: leading and closed recall >= 0.9, "
          f"open wrongly flagged <= 5 %)")
    print(f"{'lang':4} {'n':>4}  {'kind':8} {'precision':>9} {'recall':>7} {'n':>4}")
    for lang in LANGUAGES:
        m = measure(rows(lang, args.split), lang)
        report[lang] = {**m, "meets": meets(m)}
        for i, kind in enumerate(QUESTION_KINDS):
            head = f"{lang:4} {m['questions']:>4}" if i == 0 else " " * 9
            print(f"{head}  {kind:8} {_fmt(m[kind]['precision']):>9} {_fmt(m[kind]['recall']):>7} {m[kind]['n']:>4}")
        ok = report[lang]["meets"]
        print(f"{'':9}  open wrongly flagged {100 * (m['open_wrongly_flagged'] or 0):.1f} %, accuracy "
              f"{_fmt(m['accuracy'])}; targets met: {', '.join(k for k, v in ok.items() if v) or 'none'}"
              f"{'; missed: ' + ', '.join(k for k, v in ok.items() if not v) if not all(ok.values()) else ''}")
        if args.errors:
            for e in m["errors"]:
                print(f"{'':11}{e['labelled']} -> {e['classified']}: {e['text']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"split": args.split, "languages": report}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
