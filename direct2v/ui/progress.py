"""The render's step counter and time estimate, in words a person can check.

The schedule (method.md section 2) runs frame 1 alone for `steps - t0 - 1` UNet steps, then
all frames of a pass together for the rest, so the counter's total is more than Steps (the
joint phase restarts at T[-t1-1]). A joint step denoises every frame of the pass at once
and costs many first-frame steps, so an estimate from the average step so far is far too
short while frame 1 is alone. Here the two phases are timed apart; until a joint step has
been measured, one is taken as a first-frame step times the frames in a pass, and the
estimate says it is rough.
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
    return f"step {step} of {total}: {n_first} {kind} steps, then {where}"


@dataclass
class Eta:
    """Seconds left from the steps done so far, first-frame and joint steps timed apart."""

    total: int
    n_first: int
    frames_per_pass: int
    _first_done_at: float | None = field(default=None, repr=False)
    _per_first: float | None = field(default=None, repr=False)

    def update(self, step: int, elapsed_s: float) -> tuple[float | None, bool]:
        """(seconds left or None, rough?) after `step` UNet steps took `elapsed_s` seconds."""
        step = int(step)
        if step <= 0:
            return None, True
        if step <= self.n_first:
            self._per_first = elapsed_s / step
            per_joint = self._per_first * max(1, self.frames_per_pass)
            left = (self.n_first - step) * self._per_first + (self.total - self.n_first) * per_joint
            return left, True
        if self._first_done_at is None:
            # The first joint step seen: the first-frame phase took what its steps measured.
            per_first = self._per_first if self._per_first is not None else 0.0
            self._first_done_at = per_first * self.n_first
        joint_done = step - self.n_first
        per_joint = max(0.0, elapsed_s - self._first_done_at) / joint_done
        return (self.total - step) * per_joint, False


def eta_words(seconds: float | None, rough: bool) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "estimating the time left"
    seconds = int(round(seconds))
    text = f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
    return f"about {text} left" + (" (rough until the joint steps start)" if rough else "")
