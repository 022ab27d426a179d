"""The session timer: cue plan (pure), the Ogg/Opus audio, and the cache by prescription."""

from __future__ import annotations

import io
from pathlib import Path

import av
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.program.rules import SessionKind
from bot.program.state import Prescription
from bot.timer.audio import render_voice
from bot.timer.cache import TimerCache
from bot.timer.plan import LEAD_IN_S, CueKind, timer_plan


def run(run_s: int, walk_s: int, repeats: int) -> Prescription:
    minutes = -(-(run_s + walk_s) * repeats // 60)
    return Prescription(
        kind=SessionKind.RUN,
        phase_id="p",
        level_id="l",
        description="run",
        minutes=minutes,
        run_s=run_s,
        walk_s=walk_s,
        repeats=repeats,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=10, max_value=1800),
    st.integers(min_value=0, max_value=600),
    st.integers(min_value=1, max_value=12),
)
def test_cues_span_exactly_the_session(run_s: int, walk_s: int, repeats: int) -> None:
    plan = timer_plan(run(run_s, walk_s, repeats))
    assert plan is not None
    starts = [c for c in plan.cues if c.kind is CueKind.RUN]
    end = plan.cues[-1]
    assert end.kind is CueKind.END
    assert len(starts) == repeats
    assert sum(1 for c in plan.cues if c.kind is CueKind.WALK) == (repeats if walk_s else 0)
    assert end.at_s - starts[0].at_s == (run_s + walk_s) * repeats == plan.session_s
    times = [c.at_s for c in plan.cues]
    assert times == sorted(times)
    assert [c.kind for c in plan.cues[:3]] == [CueKind.COUNT] * 3
    assert starts[0].at_s == LEAD_IN_S


def test_a_walk_first_session_with_warm_up_and_cool_down_beeps_in_its_own_order() -> None:
    """Brigham's walk 5 / jog 1 with 5-minute walks either side: the warm-up and the first
    block's walk are one walk, and the cool-down follows the last jog."""
    import dataclasses

    rx = dataclasses.replace(
        run(60, 300, 2), walk_first=True, warmup_walk_min=5, cooldown_walk_min=5
    )
    plan = timer_plan(rx)
    assert plan is not None
    shape = [(c.at_s - LEAD_IN_S, c.kind) for c in plan.cues if c.kind is not CueKind.COUNT]
    assert shape == [
        (0, CueKind.WALK),  # warm-up 5 min + the first block's walk 5 min
        (600, CueKind.RUN),
        (660, CueKind.WALK),
        (960, CueKind.RUN),
        (1020, CueKind.WALK),  # cool-down
        (1320, CueKind.END),
    ]
    assert plan.session_s == 1320


def test_no_timer_for_cross_training_or_strength() -> None:
    for kind in (SessionKind.CROSS_TRAIN, SessionKind.STRENGTH):
        rx = Prescription(kind=kind, phase_id="p", level_id=None, description="bike", minutes=30)
        assert timer_plan(rx) is None


def test_same_prescription_same_key_other_prescription_other_key() -> None:
    one, same, other = (timer_plan(run(60, 240, 5)), timer_plan(run(60, 240, 5)), None)
    other = timer_plan(run(60, 180, 5))
    assert one is not None and same is not None and other is not None
    assert one.key == same.key != other.key


def _decoded_seconds(audio: bytes) -> float:
    with av.open(io.BytesIO(audio)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        assert container.format.name == "ogg"
        assert stream.codec_context.sample_rate == 48_000
        assert stream.codec_context.layout.nb_channels == 1
        return sum(frame.samples for frame in container.decode(audio=0)) / 48_000


def test_audio_is_ogg_opus_as_long_as_the_plan() -> None:
    plan = timer_plan(run(60, 360, 4))  # a 28-minute session
    assert plan is not None
    audio = render_voice(plan)
    assert abs(_decoded_seconds(audio) - plan.total_s) < 1
    assert len(audio) < 600_000  # silence costs almost nothing


def test_audio_has_sound_at_the_cues_and_silence_between() -> None:
    plan = timer_plan(run(20, 10, 1))
    assert plan is not None
    with av.open(io.BytesIO(render_voice(plan))) as container:
        samples = [frame.to_ndarray().ravel() for frame in container.decode(audio=0)]
    import numpy as np

    wave = np.abs(np.concatenate(samples))

    def loud(at_s: float) -> float:
        return float(wave[int(at_s * 48_000) : int((at_s + 0.1) * 48_000)].max())

    assert loud(LEAD_IN_S + 0.05) > 0.1  # the run cue
    assert loud(LEAD_IN_S + 20 + 0.1) > 0.1  # the walk cue
    assert loud(LEAD_IN_S + 10) < 0.01  # silence mid-run


def test_cache_renders_once_and_keeps_files(tmp_path: Path) -> None:
    plan = timer_plan(run(60, 240, 5))
    assert plan is not None
    cache = TimerCache(tmp_path)
    first = cache.get(plan)
    assert cache.get(timer_plan(run(60, 240, 5))) == first  # type: ignore[arg-type]
    assert cache.renders == 1
    restarted = TimerCache(tmp_path)
    assert restarted.get(plan) == first
    assert restarted.renders == 0
    assert len(list(tmp_path.glob("timer-*.ogg"))) == 1


def test_the_sandbox_terminal_shows_a_voice_message() -> None:
    from bot.standin.records import SentFile, SentMessage
    from bot.standin.terminal import render_message

    voice = SentFile("voice-1", "u1", "session-timer.ogg", b"x" * 300_000, "audio/ogg")
    message = SentMessage(1, 1001, 0, caption="⏱ Session timer", voice=voice, voice_duration=1807)
    assert "🔊 voice 30:07 (292 KB, session timer)" in render_message(message)
