"""95% confidence intervals over prompts, and paired differences between methods.

Every prompt of a suite is one observation. For a metric with per-prompt values x_1..x_n:

    mean = (1/n) sum_i x_i,   s = sqrt( sum_i (x_i - mean)^2 / (n - 1) )
    CI   = mean -/+ t_{(1+level)/2, n-1} * s / sqrt(n)          (Student t-interval)

A paired comparison of methods A and B uses the per-prompt differences d_i = A_i - B_i
(same prompt, same seed, same settings) and the same t-interval on d, the paired t-test's
interval. "A is higher than B" is said only when that interval lies wholly above zero.
The t-interval is exact when the values are normal and close to it for moderate n by the
central limit theorem; it needs no random resampling, so a report is reproducible bit for
bit. With n < 2 there is no spread to estimate: the interval is NaN.

Prompts where either method has no value (NaN, e.g. the consistency of a one-frame video)
are left out of that comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

LEVEL = 0.95
METHOD_NOTE = (
    "95% confidence intervals are Student t-intervals over prompts, mean ± t(0.975, n−1)·s/√n; "
    "paired differences use the same interval on the per-prompt differences (the paired t-test's "
    "interval). A difference is called only when its interval excludes zero; no correction is made "
    "for comparing several pairs."
)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    sd: float  # sample standard deviation (n - 1 in the denominator); NaN for n < 2

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero (False when it is NaN)."""
        return bool(self.low > 0 or self.high < 0)

    def sign(self) -> int:
        """+1 above zero, -1 below, 0 when the interval contains zero or is undefined."""
        if self.low > 0:
            return 1
        if self.high < 0:
            return -1
        return 0

    def to_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in
                {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "n": self.n, "sd": self.sd}.items()}


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t distribution with df degrees of freedom (scipy)."""
    from scipy.stats import t

    return float(t.ppf(p, df))


def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean and t-interval of the finite values (NaN entries are dropped)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, 1, math.nan)
    sd = float(x.std(ddof=1))
    half = t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, sd)


def paired_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """The t-interval of the per-prompt differences a_i - b_i (prompts with a NaN on either side dropped)."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"A paired comparison needs one value per prompt on both sides; got {xa.size} and {xb.size}.")
    keep = np.isfinite(xa) & np.isfinite(xb)
    return mean_interval(xa[keep] - xb[keep], level)
