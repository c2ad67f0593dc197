"""Constructed study folders whose themes are known, and how well a study found them.

Eight themes, each with eight interviewee sentences written by hand in different words (most say
the theme's key phrase, a few only paraphrase it); distractors: each interview's own topic, small
talk, and interviewer remarks that use a theme's words (only the interviewee's sentences may feed
themes). :func:`build` writes one folder of sidecars (no audio: the study reads sidecars only) and
returns the truth; :func:`score` compares a study with it. ``scripts/bench_themes.py`` prints the
figures over several folders; ``tests/test_study_themes.py`` asserts on them.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipeline import sidecar
from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording, RoleAssignment,
                                Segment, Turn, Word)

THEMES = {
    "spreadsheet": [
        "Every Friday I copy the numbers into a spreadsheet and fix the totals by hand.",
        "We keep a huge spreadsheet on the side because the tool cannot do the sums.",
        "My manager asks for the spreadsheet every Monday, so I rebuild it from scratch.",
        "Half my week goes into updating the spreadsheet that tracks every order.",
        "The spreadsheet has grown to forty tabs and nobody trusts the formulas anymore.",
        "I copy everything into a spreadsheet to make the monthly report for the board.",
        "Our finance people live in Excel because the dashboards never add up.",
        "We paste the figures into Google Sheets and reconcile them manually.",
    ],
    "price": [
        "The price is far too high for a small team like ours.",
        "Honestly the price went up twice this year and we nearly cancelled.",
        "We compared the price with two competitors and yours is the most expensive.",
        "At this price we can only afford three seats for the whole company.",
        "The price per user makes it impossible to roll out to the warehouse staff.",
        "My boss keeps asking whether the price is worth it for what we use.",
        "The subscription costs more than our entire software budget.",
        "It is simply too expensive for a charity that runs on volunteers.",
    ],
    "onboarding": [
        "Onboarding a new hire takes almost two weeks because the setup is so confusing.",
        "The onboarding videos are outdated and show screens that no longer exist.",
        "During onboarding people get lost in all the settings and give up.",
        "We had to write our own onboarding guide for every new colleague.",
        "Onboarding the seasonal staff is painful since each of them needs personal training.",
        "Better onboarding would save me hours of explaining the same steps.",
        "New starters struggle for weeks before they feel confident in the system.",
        "Training new employees on the tool eats up most of my first month with them.",
    ],
    "mobile app": [
        "The mobile app crashes whenever I try to upload a photo from the site.",
        "Our drivers use the mobile app and it logs them out several times a day.",
        "The mobile app is so slow that people wait until they are back at a desk.",
        "Half the features are missing from the mobile app, so we carry laptops around.",
        "When the signal drops the mobile app loses everything I typed.",
        "I would use the mobile app far more if it worked offline in the basement.",
        "On my phone the screens are too small and the buttons overlap.",
        "The app on Android freezes every time I open a long list.",
    ],
    "customer support": [
        "Customer support takes three days to answer even urgent tickets.",
        "Every time I contact customer support I have to explain the problem from the beginning.",
        "Customer support closed my ticket without fixing anything.",
        "We pay for premium customer support and still wait on hold for an hour.",
        "The people in customer support are friendly but they cannot solve technical issues.",
        "I gave up on customer support and now ask other users in the forum.",
        "Nobody from the help desk ever called me back about the outage.",
        "The chat assistant just sends links to articles that do not solve anything.",
    ],
    "search": [
        "The search never finds the document even when I type the exact title.",
        "I spend ages scrolling because the search only matches the first word.",
        "Search results are full of old archived projects that nobody needs.",
        "If the search handled typos I would save a lot of time every day.",
        "Our team gave up on search and uses folders with long names instead.",
        "The search is so slow that I keep a list of links in a text file.",
        "Finding an old contract means clicking through dozens of folders.",
        "Nothing I look for shows up unless I remember exactly how it was named.",
    ],
    "notification": [
        "I get so many email notifications that I ignore all of them now.",
        "The notifications arrive hours late, so I miss the approvals.",
        "There is no way to turn off the notifications for projects I left.",
        "My inbox fills up with notifications about changes that do not concern me.",
        "Because of the flood of notifications the important alerts get lost.",
        "I set up a filter that deletes the notifications automatically.",
        "My phone buzzes all evening with reminders about tasks that are already done.",
        "The constant alerts make it hard to concentrate on real work.",
    ],
    "password": [
        "I have to reset my password almost every week because it expires so often.",
        "The password rules are so strict that people write them on sticky notes.",
        "Our staff share one password because extra accounts cost too much.",
        "Typing a password on the tablet in the warehouse with gloves is a nightmare.",
        "Single sign-on would spare us from remembering yet another password.",
        "Every password reset email lands in spam, so people call me instead.",
        "Getting locked out of the account happens to someone nearly every morning.",
        "The two-factor codes never arrive when I am down in the cellar.",
    ],
}
OWN_TOPICS = [  # one topic each, none shared: a theme found among them is a false theme
    "Forty people work in our warehouse across three shifts, and the forklifts are old.",
    "Before this job I was a nurse, so hospitals still feel like home to me.",
    "We build custom bicycles in a small workshop near the harbour.",
    "My daughter plays the violin in the school orchestra on Thursdays.",
    "Our bakery opens at five and the sourdough sells out by nine.",
    "I studied marine biology and spent two years counting seals in Scotland.",
    "The office moved to an old brewery building with very high ceilings.",
    "We run three dental clinics and a van that visits rural schools.",
    "I coach the under twelve football team on Saturday mornings.",
    "The family farm grows apples, pears and a few rows of grapes.",
    "We restore vintage furniture and sell most pieces at the flea market.",
    "The hotel has sixty rooms and a restaurant that seats about a hundred guests.",
    "I moved here from Lisbon six years ago and still miss the ocean.",
    "My brother and I run a print shop that makes posters for local theatres.",
    "The lab studies soil bacteria that help crops survive long droughts.",
    "Our law firm handles mostly tenancy disputes for small landlords.",
    "I translate technical manuals from German for two engineering firms.",
    "We organise wedding flowers for venues all along the coast.",
    "The museum reopened its dinosaur hall after three years of repairs.",
    "Our brewery ships craft beer to forty pubs in the region.",
]
SMALL_TALK = [
    "The weather has been lovely all week, we even ate outside.",
    "It has been pouring with rain here since Monday morning.",
    "We spent the weekend hiking in the hills with the dog.",
    "Sorry about that, I only just got back from lunch downstairs.",
]
# the interviewer's remarks that use a theme's words: never a theme's quote
PROMPTS = {key: f"Other people I spoke to also mentioned the {key} as a real problem for their team." for key in THEMES}
QUESTIONS = ["What gets in the way most often?", "Can you tell me more about that?",
             "What else do you find hard?", "How does that affect your week?"]
# folders of the benchmark: (name, themes, interviews, themes per interview)
FOLDERS = [("two-themes", 2, 5, 2), ("four-themes", 4, 8, 2), ("six-themes", 6, 10, 2), ("eight-themes", 8, 12, 2)]
WORD_S = 0.4


@dataclass
class Truth:
    themes: list[str]  # the key phrases of the folder's themes
    label: dict[str, str]  # sentence text -> its theme's key phrase, "own", "small talk" or "interviewer"


def interview(audio: Path, lines: list[tuple[str, str]]) -> Interview:
    """An analysed-enough interview: turns one after another, 1.5 s apart, each word 0.4 s."""
    speaker = {INTERVIEWER: "S1", INTERVIEWEE: "S2"}
    segments, turns, t = [], [], 1.0
    for role, text in lines:
        words = [Word(round(t + i * WORD_S, 3), round(t + (i + 1) * WORD_S - 0.05, 3), " " + w)
                 for i, w in enumerate(text.split())]
        segments.append(Segment(words[0].start, words[-1].end, " " + text, words, speaker[role], role))
        turns.append(Turn(words[0].start, words[-1].end, speaker[role], role))
        t = words[-1].end + 1.5
    return Interview(source=Recording(str(audio), hashlib.sha256(audio.name.encode()).hexdigest(), round(t + 1, 3),
                                      1, 16000, "pcm_s16le"),
                     pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"), language="en",
                     language_probability=1.0, segments=segments, turns=turns,
                     roles=RoleAssignment("S1", "S2", 0.9, "evidence"))


def build(root: Path, n_themes: int, n_interviews: int, per_interview: int = 2, seed: int = 0,
          keys: Optional[list[str]] = None) -> Truth:
    """A folder of ``n_interviews`` sidecars sharing ``n_themes`` themes (each interview speaks to
    ``per_interview`` of them, one sentence each, every theme in two interviews or more)."""
    rng = random.Random(seed)
    keys = keys or rng.sample(sorted(THEMES), n_themes)
    pools = {k: rng.sample(THEMES[k], len(THEMES[k])) for k in keys}
    own = rng.sample(OWN_TOPICS, len(OWN_TOPICS))
    label = {s: "own" for s in OWN_TOPICS} | {s: "small talk" for s in SMALL_TALK}
    label |= {PROMPTS[k]: "interviewer" for k in keys}
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_interviews):
        lines = [(INTERVIEWER, "Thanks for joining, how has your week been?"), (INTERVIEWEE, SMALL_TALK[i % len(SMALL_TALK)]),
                 (INTERVIEWER, "Can you tell me about your work?"), (INTERVIEWEE, own[i % len(own)])]
        for j in range(per_interview):
            key = keys[(i + j) % len(keys)]
            if not pools[key]:
                raise ValueError(f"theme {key!r} has no sentence left for interview {i}")
            text = pools[key].pop()
            label[text] = key
            lines += [(INTERVIEWER, QUESTIONS[(i + j) % len(QUESTIONS)]), (INTERVIEWEE, text)]
            if i == j:  # the interviewer uses the theme's words once in the folder
                lines.append((INTERVIEWER, PROMPTS[key]))
        lines.append((INTERVIEWER, "Thank you, that is all my questions."))
        audio = root / f"2024-04-{i + 1:02d} p{i + 1:02d}.wav"
        sidecar.write(interview(audio, lines), sidecar.sidecar_path(audio))
    return Truth(keys, label)


def score(themes: list[dict], truth: Truth) -> dict:
    """Purity (share of theme quotes from the theme's main label), coverage (share of the known
    themes that are the main label of a found theme), recall (share of the known themes' sentences
    found in such a theme), named (share of covered themes whose theme's name holds the key
    phrase), and how many found themes are not any known theme."""
    total = kept = 0
    best: dict[str, dict] = {}
    stray = 0
    for t in themes:
        counts: dict[str, int] = {}
        for q in t["quotes"]:
            lab = truth.label.get(q["text"].strip(), "unknown")
            counts[lab] = counts.get(lab, 0) + 1
        main = max(counts, key=lambda k: (counts[k], k))
        total += sum(counts.values())
        kept += counts[main]
        if main in truth.themes:
            if main not in best or counts[main] > best[main]["hits"]:
                best[main] = {"hits": counts[main], "name": t["name"]}
        else:
            stray += 1
    sentences = {k: sum(1 for v in truth.label.values() if v == k) for k in truth.themes}
    return {
        "themes": len(truth.themes), "found": len(themes),
        "purity": round(kept / total, 3) if total else 0.0,
        "coverage": round(len(best) / len(truth.themes), 3),
        "recall": round(sum(b["hits"] for b in best.values()) / max(1, sum(sentences.values())), 3),
        "named": round(sum(k in b["name"].lower() for k, b in best.items()) / max(1, len(best)), 3),
        "stray": stray, "names": {k: b["name"] for k, b in best.items()},
    }
