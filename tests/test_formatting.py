import pytest

from sdsd_dspy.formatting import (
    STOP_MARKER,
    assistant_indices,
    clean_turn,
    format_principles,
    format_transcript,
    is_near_duplicate,
    normalize_name,
    record_id,
    split_stop_marker,
    to_messages,
)
from sdsd_dspy.types import Principle, Turn


def test_record_id_is_stable_and_distinct():
    assert record_id(3, 7) == record_id(3, 7)
    assert len({record_id(s, i) for s in range(3) for i in range(50)}) == 150


@pytest.mark.parametrize("raw, expected", [
    ("Assistant: Sure, here it is.", "Sure, here it is."),
    ("**User**: hi there", "hi there"),
    ('"quoted reply"', "quoted reply"),
    ("text [[ ## completed ## ]]", "text"),
    ("  plain  ", "plain"),
    ("", ""),
    (None, ""),
])
def test_clean_turn(raw, expected):
    assert clean_turn(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("[DONE]", ("", True)),
    ("Thanks a lot! [DONE]", ("Thanks a lot!", True)),
    ("thanks [done]", ("thanks", True)),
    ("User: What else?", ("What else?", False)),
])
def test_split_stop_marker(raw, expected):
    assert split_stop_marker(raw) == expected
    assert STOP_MARKER == "[DONE]"


def test_transcript_and_messages():
    turns = [Turn(role="user", content="hi"), Turn(role="assistant", content="hello")]
    assert format_transcript(turns) == "User: hi\n\nAssistant: hello"
    assert format_transcript([]).startswith("(")
    assert to_messages(turns) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert assistant_indices(turns) == [1]


def test_format_principles_shows_ids():
    p = Principle(id="harm.x", category="harm", source="ours", text="The assistant must not do X ever.")
    assert format_principles([p]) == "- [harm.x] The assistant must not do X ever."


def test_near_duplicates():
    assert normalize_name("The Arts & Crafts") == "art craft"
    assert is_near_duplicate("Home Cooking", ["home cooking"])
    assert is_near_duplicate("Cooking at home", ["Home cooking"])
    assert not is_near_duplicate("Astronomy", ["Home cooking", "Gardening"])
    assert is_near_duplicate("   ", ["x"])
