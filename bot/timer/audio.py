"""Rendering a `TimerPlan` as a Telegram voice message: mono 48 kHz Opus in an Ogg container.

CPU only, no files: the cues are short sine beeps mixed into a silent timeline, encoded a
frame at a time. CELT-only Opus ("lowdelay") suits pure tones and codes a silent 60 ms frame
in 8 bytes, so a 30-minute timer is about a quarter of a megabyte.
"""

from __future__ import annotations

import io
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from bot.timer.plan import CueKind, TimerPlan

__all__ = ["BIT_RATE", "SAMPLE_RATE", "render_voice"]

SAMPLE_RATE = 48_000
BIT_RATE = 16_000
_FRAME = SAMPLE_RATE * 60 // 1000  # 60 ms, the longest Opus frame: fewest packets
_MARGIN = 3  # frames of silence encoded around each cue
_AMPLITUDE = 0.5
_FADE_S = 0.008  # fade in and out, so a beep starts and stops without a click

Samples = NDArray[np.float32]


def _tone(freq_hz: float, seconds: float) -> Samples:
    count = int(SAMPLE_RATE * seconds)
    t = np.arange(count, dtype=np.float32) / SAMPLE_RATE
    wave = np.sin(2 * np.pi * freq_hz * t).astype(np.float32) * _AMPLITUDE
    fade = min(count // 2, int(SAMPLE_RATE * _FADE_S))
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    wave[:fade] *= ramp
    wave[count - fade :] *= ramp[::-1]
    return wave


def _gap(seconds: float) -> Samples:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.float32)


def _sequence(*parts: Samples) -> Samples:
    return np.concatenate(parts)


# Rising = go, low = ease off, three = done; distinct enough to tell apart without looking.
_SOUNDS: dict[CueKind, Samples] = {
    CueKind.COUNT: _tone(1000, 0.08),
    CueKind.RUN: _sequence(_tone(660, 0.18), _gap(0.08), _tone(990, 0.25)),
    CueKind.WALK: _tone(330, 0.6),
    CueKind.END: _sequence(
        _tone(880, 0.15), _gap(0.1), _tone(880, 0.15), _gap(0.1), _tone(880, 0.3)
    ),
}


def _samples(plan: TimerPlan, start: int, end: int) -> Samples:
    """Samples [start, end) of the audio: silence with the cues mixed in where they fall."""
    chunk = np.zeros(end - start, dtype=np.float32)
    for cue in plan.cues:
        sound = _SOUNDS[cue.kind]
        at = cue.at_s * SAMPLE_RATE
        lo, hi = max(start, at), min(end, at + len(sound))
        if lo < hi:
            chunk[lo - start : hi - start] += sound[lo - at : hi - at]
    return chunk


def _frames_to_encode(plan: TimerPlan, frame_count: int) -> list[int]:
    """The frames that hold sound, with a margin of silence around each cue (so the encoder
    settles), and the first and last few frames; every other frame is plain silence."""
    busy = set(range(min(frame_count, _MARGIN * 2)))
    busy |= set(range(max(0, frame_count - _MARGIN), frame_count))
    for cue in plan.cues:
        first = cue.at_s * SAMPLE_RATE // _FRAME
        last = (cue.at_s * SAMPLE_RATE + len(_SOUNDS[cue.kind])) // _FRAME
        busy |= set(range(max(0, first - _MARGIN), min(frame_count, last + _MARGIN + 1)))
    return sorted(busy)


def render_voice(plan: TimerPlan) -> bytes:
    """The plan as Ogg/Opus bytes, ready for sendVoice.

    Encoding every 60 ms of a 40-minute silence costs seconds of CPU, so only the frames
    around cues go through the encoder; the silent stretches between them are copies of one
    encoded silent packet, which the decoder plays as silence (an Opus packet decodes on its
    own). Frames fed to the encoder carry their true timestamps, so its packets land where
    they belong and the gaps between them are whole frames of silence.
    """
    total = plan.total_s * SAMPLE_RATE
    frame_count = -(-total // _FRAME)
    out = io.BytesIO()
    with av.open(out, mode="w", format="ogg") as container:
        stream = container.add_stream(
            "libopus",
            rate=SAMPLE_RATE,
            options={
                "frame_duration": str(_FRAME * 1000 // SAMPLE_RATE),
                "application": "lowdelay",
            },
        )
        stream.bit_rate = BIT_RATE
        stream.layout = "mono"
        packets: list[av.Packet[Any]] = []
        for index in _frames_to_encode(plan, frame_count):
            start = index * _FRAME
            samples = _samples(plan, start, start + _FRAME)
            pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            packets.extend(stream.encode(frame))
        packets.extend(stream.encode(None))
        silence = bytes(packets[_MARGIN])  # from the lead-in's opening second of silence
        previous_end: int | None = None
        for packet in packets:
            assert packet.pts is not None
            if previous_end is not None:
                for pts in range(previous_end, packet.pts, _FRAME):
                    container.mux(_copy(silence, pts, stream))
            container.mux(packet)
            previous_end = packet.pts + _FRAME
    return out.getvalue()


def _copy(data: bytes, pts: int, stream: av.audio.stream.AudioStream) -> av.Packet[Any]:
    packet = av.Packet(data)
    packet.pts = packet.dts = pts
    packet.duration = _FRAME
    assert stream.time_base is not None
    packet.time_base = stream.time_base
    packet.stream = stream
    return packet
