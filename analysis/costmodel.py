"""The cost model behind every estimate: constants measured on this machine
by ``python -m bench.analysis``, which writes ``analysis/cost_model.json``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).resolve().parent / "cost_model.json"


@functools.cache
def cost_model() -> dict[str, Any]:
    return json.loads(MODEL_PATH.read_text())


def constants(slug: str) -> dict[str, float]:
    """The measured constants of one job type (KeyError if it was never measured)."""
    return cost_model()["types"][slug]
