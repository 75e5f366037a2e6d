"""Score the extractor on the labelled development notes with the shared scorer."""

import importlib.util
import json
from pathlib import Path

import pytest

from bot.understanding.evaluation import parse_lines

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCORER_PATH = SHARED / "eval/score_notes.py"
NOTES_PATH = SHARED / "data/notes-dev.jsonl"
WORLD_PATH = SHARED / "data/world.json"

MIN_OVERALL_F1 = 0.95


def _load_scorer():
    spec = importlib.util.spec_from_file_location("score_notes", SCORER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score_note_file(notes_path: Path) -> tuple[float, list]:
    """Parse a labelled note file and return its overall F1 and the scorer's misses."""
    scorer = _load_scorer()
    world = json.loads(WORLD_PATH.read_text(encoding="utf-8"))
    lines = notes_path.read_text(encoding="utf-8").splitlines()
    labelled = [json.loads(line) for line in lines if line.strip()]

    predicted = {}
    for output in parse_lines(world, lines):
        row = json.loads(output)
        predicted[row["id"]] = row

    assert set(predicted) == {note["id"] for note in labelled}
    tally, misses = scorer.score(labelled, predicted)
    total = [sum(column) for column in zip(*tally.values())]
    _, _, f1 = scorer.prf(*total)
    return f1, misses


@pytest.mark.skipif(
    not (SCORER_PATH.exists() and NOTES_PATH.exists() and WORLD_PATH.exists()),
    reason=f"labelled notes or scorer not found under {SHARED}",
)
def test_dev_notes_overall_f1():
    f1, misses = score_note_file(NOTES_PATH)
    assert f1 >= MIN_OVERALL_F1, f"overall F1 {f1:.3f}; misses: {misses}"
