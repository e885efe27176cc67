"""The render's step counter and time estimate, in words a person can check.

The schedule (method.md section 2) runs frame 1 alone for `steps - t0 - 1` UNet steps, then
all frames of a pass together for the rest, so the counter's total is more than Steps (the
joint phase restarts at T[-t1-1]). A joint step denoises every frame of the pass at once,
so the average step so far says little while frame 1 is alone. Here the two phases are
timed apart. Until a joint step has been timed, one is guessed as a first-frame step times
the square root of the frames in a pass: a GPU batches frames almost for free and a CPU
pays for each, and the root is within a factor of root-frames of both (under 10 for the
page's passes of up to 64 frames). The estimate says it is rough until both phases are
timed, and the number shown moves by at most a factor of two per update.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def single_frame_steps(num_inference_steps: int, t0: int, t1: int, total: int, image_mode: str | None = None) -> int:
    """UNet steps on frame 1 alone before the joint phase: down to T[-t1-1] and on to
    T[-t0-1]; with a start picture, the inversion's steps up to T[-t1-1] (none for noise)."""
    if image_mode is None:
        n = int(num_inference_steps) - int(t0) - 1
    elif image_mode == "invert":
        n = int(t1) + 1
    else:
        n = 0
    return max(0, min(int(total), n))


def step_label(step: int, total: int, n_first: int, passes: int = 1, picture: bool = False) -> str:
    """"step 12 of 53: 5 first-frame steps, then 48 joint" (with passes when there are several)."""
    joint = max(0, int(total) - int(n_first))
    where = f"{joint} joint" + (f" over {passes} passes" if passes > 1 else "")
    if n_first == 0:
        return f"step {step} of {total}: all {where}"
    kind = "start-picture" if picture else "first-frame"
    return f"step {step} of {total}: {n_first} {kind} step{'' if n_first == 1 else 's'}, then {where}"


MAX_JUMP = 2.0  # the shown estimate moves by at most this factor from one update to the next


@dataclass
class Eta:
    """Seconds left from the steps done so far, first-frame and joint steps timed apart."""

    total: int
    n_first: int
    frames_per_pass: int
    _first: tuple[int, float] | None = field(default=None, repr=False)  # (step, elapsed) of the first step seen
    _last_first: tuple[int, float] | None = field(default=None, repr=False)  # the last first-frame step seen
    _joint: tuple[int, float] | None = field(default=None, repr=False)  # the first joint step seen
    _shown: tuple[float, float] | None = field(default=None, repr=False)  # (left, elapsed) last returned

    def update(self, step: int, elapsed_s: float) -> tuple[float | None, bool]:
        """(seconds left or None, rough?) after `step` UNet steps took `elapsed_s` seconds."""
        step, elapsed_s = int(step), float(elapsed_s)
        if step <= 0:
            return None, True
        if step >= self.total:
            return 0.0, False
        self._remember(step, elapsed_s)
        per_first, per_joint, rough = self._rates(step, elapsed_s)
        if per_joint is None:
            return None, True
        left = max(0, self.n_first - step) * (per_first or 0.0) + (self.total - max(step, self.n_first)) * per_joint
        return self._steady(left, elapsed_s), rough

    def _remember(self, step: int, elapsed_s: float) -> None:
        if self._first is None:
            self._first = (step, elapsed_s)
        if step <= self.n_first:
            self._last_first = (step, elapsed_s)
        elif self._joint is None:
            self._joint = (step, elapsed_s)

    def _rates(self, step: int, elapsed_s: float) -> tuple[float | None, float | None, bool]:
        """(seconds per first-frame step, per joint step, rough?). The first step carries the
        render's set-up (text encoding, moving weights) and the first joint step the joint
        phase's, so each rate is measured from a phase's first step to a later one; None
        until there is one."""
        per_first = None
        if self._last_first is not None and self._last_first[0] > self._first[0]:
            (s1, e1), (s2, e2) = self._first, self._last_first
            per_first = (e2 - e1) / (s2 - s1)
        if self._joint is not None and step > self._joint[0]:
            sj, ej = self._joint
            return per_first, (elapsed_s - ej) / (step - sj), False
        if self._joint is not None and self._last_first is not None:
            return per_first, self._joint[1] - self._last_first[1], True  # one joint step, its set-up included
        guess = per_first * max(1, self.frames_per_pass) ** 0.5 if per_first is not None else None
        return per_first, guess, True

    def _steady(self, left: float, elapsed_s: float) -> float:
        """`left`, kept within MAX_JUMP of what the last estimate expects by now."""
        if self._shown is not None:
            before, then = self._shown
            expected = max(before - (elapsed_s - then), 1.0)
            left = min(max(left, expected / MAX_JUMP), expected * MAX_JUMP)
        self._shown = (left, elapsed_s)
        return left


def eta_words(seconds: float | None, rough: bool) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "estimating the time left"
    seconds = int(round(seconds))
    text = f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
    return f"about {text} left" + (" (rough until both phases are timed)" if rough else "")
