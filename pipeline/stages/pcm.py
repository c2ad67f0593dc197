"""Decoded audio held compactly and read in windows, so memory stays flat in the recording's length.

A *signal* is a sequence of samples with ``length``, ``read(a, b)`` (samples ``a:b`` as a new
float32 array in [-1, 1], cut at the end) and ``peak()`` (the largest absolute sample). A decoded
channel is :class:`Pcm16`: int16 in an unlinked temporary file (two bytes a sample, outside the
process's memory: read back with ``os.pread``, so only the window asked for is ever resident, and
the file disappears when the object does or the process dies). :class:`Mix` is the mean of
several channels, :class:`Gated` a channel silenced outside given frames, :class:`Array` an array
already in memory (tests, short clips). Stages take a signal, never a whole recording's array.
"""
from __future__ import annotations

import os
import tempfile
from typing import Iterator, Optional, Protocol, Sequence, Union

import numpy as np

SCALE = 32768.0  # int16 full scale
BLOCK = 1 << 20  # samples a whole-signal pass reads at a time (about a minute at 16 kHz)


class Signal(Protocol):
    length: int

    def read(self, a: int, b: int) -> np.ndarray: ...

    def peak(self) -> float: ...


def blocks(signal: "Signal", size: int = BLOCK) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples) of the whole signal, ``size`` samples at a time."""
    for a in range(0, signal.length, size):
        yield a, signal.read(a, a + size)


def scan_peak(signal: "Signal") -> float:
    """The largest absolute sample, from one pass over the whole signal (0.0 when empty)."""
    return max((float(np.abs(x).max()) for _, x in blocks(signal) if x.size), default=0.0)


def _span(length: int, a: int, b: int) -> tuple[int, int]:
    a = min(max(0, int(a)), length)
    return a, min(max(a, int(b)), length)


class Pcm16:
    """One channel as int16 in an unlinked temporary file, appended while decoding, then read
    by window (thread-safe: ``os.pread``). ``length`` may be set past what was appended (a
    shorter stream padded to the longest): those samples read as silence."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="ivp-pcm-", buffering=0)  # unlinked on creation (POSIX)
        self.stored = 0
        self.length = 0
        self._peak = 0

    def append(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.int16)
        if samples.size:
            self._peak = max(self._peak, int(samples.max()), -int(samples.min()))
            view = memoryview(samples).cast("B")
            while view:  # a raw write may take fewer bytes than given
                view = view[self._file.write(view):]
        self.stored += samples.size
        self.length = max(self.length, self.stored)

    def raw(self, a: int, b: int) -> np.ndarray:
        """Samples ``a:b`` as int16 (silence past what was stored)."""
        a, b = _span(self.length, a, b)
        out = np.zeros(b - a, dtype=np.int16)
        stop = min(b, self.stored)
        if stop > a:
            want = 2 * (stop - a)
            data = os.pread(self._file.fileno(), want, 2 * a)
            while len(data) < want:  # short reads: keep going
                more = os.pread(self._file.fileno(), want - len(data), 2 * a + len(data))
                if not more:
                    raise OSError(f"decoded audio cut short in its temporary file at sample {a + len(data) // 2}")
                data += more
            out[: stop - a] = np.frombuffer(data, dtype=np.int16)
        return out

    def read(self, a: int, b: int) -> np.ndarray:
        return self.raw(a, b).astype(np.float32) / SCALE

    def peak(self) -> float:
        return self._peak / SCALE


class Array:
    """Samples already in memory: float in [-1, 1], or int16 (scaled by 1/32768 when read)."""

    def __init__(self, samples: np.ndarray):
        self.samples = np.asarray(samples)
        self.length = int(self.samples.shape[0])

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = _span(self.length, a, b)
        x = self.samples[a:b]
        if np.issubdtype(x.dtype, np.integer):
            return x.astype(np.float32) / SCALE
        return np.array(x, dtype=np.float32)  # a copy: the caller may change it

    def peak(self) -> float:
        return scan_peak(self)


class Mix:
    """The mean of several channels (the shorter ones silent past their end), as decode made
    the mono mix of a stereo file, two streams or a set of tracks: identical to the mean of
    their int16 samples scaled to float."""

    def __init__(self, channels: Sequence[Signal]):
        self.channels = tuple(channels)
        self.length = max((c.length for c in self.channels), default=0)
        self._peak: Optional[float] = None

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = _span(self.length, a, b)
        if len(self.channels) == 1:
            return self.channels[0].read(a, b)
        out = np.zeros(b - a, dtype=np.float32)
        for c in self.channels:
            x = c.read(a, b)
            out[: len(x)] += x
        out /= np.float32(len(self.channels))
        return out

    def peak(self) -> float:
        """One pass over the mix (channels may cancel), remembered."""
        if self._peak is None:
            self._peak = scan_peak(self)
        return self._peak


class Gated:
    """A channel silenced outside ``keep`` (one flag per ``hop`` samples) and past its last flag."""

    def __init__(self, channel: Signal, keep: np.ndarray, hop: int):
        self.channel, self.hop = channel, hop
        self.length = channel.length
        self.keep = np.asarray(keep[: self.length // hop], dtype=bool)

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = _span(self.length, a, b)
        x = self.channel.read(a, b)
        first = a // self.hop
        flags = np.zeros(-(-b // self.hop) - first, dtype=bool)
        known = self.keep[first: first + len(flags)]
        flags[: len(known)] = known
        x[~np.repeat(flags, self.hop)[a - first * self.hop: b - first * self.hop]] = 0.0
        return x

    def peak(self) -> float:
        return scan_peak(self)


def as_signal(samples: Union[Signal, np.ndarray]) -> Signal:
    """A signal as it is; an array (mono samples) wrapped as :class:`Array`."""
    return Array(samples) if isinstance(samples, np.ndarray) else samples
