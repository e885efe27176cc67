"""The methods a comparison renders: a value-mapping mode, optionally with DSF.

Names: the value-mapping modes of `RenderSettings` ("first", "sparse_causal", "rotational",
"random", "none"), each optionally followed by "+dsf"; the paper's column labels ("T2V-Z",
"TAV", "RVM", "RVM+DSF") are accepted as aliases, case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..settings import MODE_LABELS, VALUE_MAPPING_MODES, RenderSettings
from .metrics import EvaluationError

DEFAULT_METHODS = ("first", "sparse_causal", "rotational", "rotational+dsf")
DEFAULT_DSF_QUANTILE = 0.2


def comparison_dsf(dsf_quantile: float) -> float:
    """The DSF quantile of the "+dsf" methods of a comparison: the settings' own, or 0.2 when they
    have DSF off (0), since a "+dsf" method with p = 0 would equal its plain twin."""
    return dsf_quantile if dsf_quantile > 0 else DEFAULT_DSF_QUANTILE

# Table 1's column labels.
LABELS = {mode: short for mode, (short, _) in MODE_LABELS.items()}
_ALIASES = {label.lower(): mode for mode, label in LABELS.items()}


@dataclass(frozen=True)
class Method:
    name: str  # canonical, e.g. "rotational+dsf"
    value_mapping: str
    dsf: bool

    @property
    def label(self) -> str:
        return LABELS[self.value_mapping] + ("+DSF" if self.dsf else "")

    def settings(self, base: RenderSettings, dsf_quantile: float) -> RenderSettings:
        """`base` with this method's value mapping; DSF at `dsf_quantile` or off."""
        return base.replace(value_mapping=self.value_mapping, dsf_quantile=dsf_quantile if self.dsf else 0.0)


def method_choices(modes=("first", "sparse_causal", "rotational", "rotational+dsf", "random", "none")) -> list[tuple[str, str]]:
    """(label, name) for the page's method boxes: "T2V-Z: First frame (Text2Video-Zero)", "RVM+DSF", ..."""
    out = []
    for name in modes:
        m = parse_method(name)
        long = MODE_LABELS[m.value_mapping][1]
        out.append((m.label if m.dsf else long if long.startswith(m.label) else f"{m.label}: {long}", m.name))
    return out


def parse_method(name: str) -> Method:
    raw = str(name).strip()
    key = raw.lower().replace("-", "_").replace(" ", "")
    dsf = False
    for suffix in ("+dsf", "_dsf"):
        if key.endswith(suffix):
            key, dsf = key[: -len(suffix)], True
            break
    key = _ALIASES.get(key.replace("_", "-"), _ALIASES.get(key, key))
    if key not in VALUE_MAPPING_MODES:
        raise EvaluationError(
            f"Unknown method {raw!r}; use one of {', '.join(VALUE_MAPPING_MODES)}, optionally with +dsf "
            f"(e.g. rotational+dsf), or the paper's labels {', '.join(LABELS[m] for m in DEFAULT_METHODS[:3])}, RVM+DSF."
        )
    if dsf and key == "none":
        raise EvaluationError("DSF filters value mapping; 'none' maps no values, so 'none+dsf' equals 'none'.")
    return Method(name=key + ("+dsf" if dsf else ""), value_mapping=key, dsf=dsf)


def parse_methods(names: Iterable[str] | str) -> list[Method]:
    """Methods from names (a list, or one comma-separated string); no duplicates, at least one."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    methods = [parse_method(n) for n in names]
    if not methods:
        raise EvaluationError("Choose at least one method to compare.")
    seen = set()
    for m in methods:
        if m.name in seen:
            raise EvaluationError(f"Method {m.name!r} is listed twice.")
        seen.add(m.name)
    return methods
