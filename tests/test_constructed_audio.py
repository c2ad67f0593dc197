"""The constructed recordings behind the roles, people and voices tests are the same whatever ran
before them in the process: a test's audio must not depend on the order tests run in (``-k``, one
file alone, or another order all change what ran first)."""
from __future__ import annotations

import numpy as np

import kit

ra = kit.synthetic_voices("roles_audio")


def test_piper_says_a_text_the_same_after_other_texts():
    text = "Could you walk me through the last time that happened?"
    first = ra.piper(text)
    ra.piper("Thanks for making the time today.")  # advances the noise of a shared session
    again = ra.piper(text)
    assert first.shape == again.shape and np.array_equal(first, again)
    assert np.abs(first).max() > 0.05  # speech, not silence
