"""The LLM director: one abstract prompt in, exactly N frame prompts out (method.md section 1).

    from direct2v.director import make_director
    d = make_director("local")                   # or "openai", "gemini", "huggingface", "offline"
    frames = d.direct("A corgi is running, and another corgi joins later", num_frames=8, fps=4)
    frames16 = d.double_fps()                    # paper 4.3: 16 frames at 8 fps
    d.direct("the dog starts to run", image="dog.png")  # a start picture (vision.py): frame 1, whose
                                                 # content vision-capable back ends describe
    frames = d.redirect_frame(frames, 2, user_prompt="...")  # the table with a new frame 3 that
                                                 # fits the (edited) rows around it (`.frame`)
    over_limit_frames(frames)                    # indices that exceed CLIP's 77 tokens

Every call returns a `DirectorResult` (result.py): the list of frames itself, plus who wrote
it (`backend`, `model`, `author`, `byline()`), why a fallback happened (`fallback`), whether
it came from the cache (`cached`), the quality gate's `flags`, a `notice` and the picture's
`image_note`. Nothing is read back from the director object afterwards.

Layout: base.py (interface, the one conversation loop), result.py (what a call returns), prompts.py (task prompts), parsing.py (answer
validation), constrained.py (the local model's grammar), keys.py (which key goes to which
host), cache.py, tokens.py, vision.py (the start picture as sent), one file per back end.
SDKs are imported only when a back end is used, so importing this package is cheap.
"""

from .base import Director, LLMDirector
from .errors import (
    DirectorAuthError,
    DirectorConfigError,
    DirectorConnectionError,
    DirectorError,
    DirectorFormatError,
    DirectorImageUnsupported,
    DirectorInputError,
    DirectorModelError,
    DirectorQuotaError,
    DirectorRateLimitError,
    DirectorRefusalError,
    DirectorRequestError,
    DirectorServerError,
    DirectorTimeoutError,
)
from .factory import BACKENDS, available_backends, default_backend, make_director
from .result import DirectorResult
from .prompts import IMAGE_PROMPT_VERSION, REDIRECT_PROMPT_VERSION, TASK_PROMPT_VERSION
from .tokens import CLIP_MAX_TOKENS, over_limit_frames, token_lengths

__all__ = [
    "BACKENDS", "CLIP_MAX_TOKENS", "IMAGE_PROMPT_VERSION", "REDIRECT_PROMPT_VERSION", "TASK_PROMPT_VERSION",
    "Director", "DirectorResult", "LLMDirector",
    "DirectorError", "DirectorAuthError", "DirectorConfigError", "DirectorConnectionError", "DirectorFormatError",
    "DirectorImageUnsupported", "DirectorInputError", "DirectorModelError", "DirectorQuotaError",
    "DirectorRateLimitError", "DirectorRefusalError",
    "DirectorRequestError", "DirectorServerError", "DirectorTimeoutError",
    "available_backends", "default_backend", "make_director", "over_limit_frames", "token_lengths",
]
