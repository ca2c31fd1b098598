import pytest

from sdsd_dspy.formatting import (
    STOP_MARKER,
    assistant_indices,
    clean_turn,
    format_principles,
    format_transcript,
    is_near_duplicate,
    normalize_name,
    off_role_user_turn,
    record_id,
    split_stop_marker,
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


def test_transcript_and_assistant_indices():
    turns = [Turn(role="user", content="hi"), Turn(role="assistant", content="hello")]
    assert format_transcript(turns) == "User: hi\n\nAssistant: hello"
    assert format_transcript([]).startswith("(")
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


def test_split_inline_tag():
    from sdsd_dspy.formatting import split_inline_tag
    ids = ["harm.weapons", "honesty.no_fabrication"]
    assert split_inline_tag("Sure.\n[BREAKS: harm.weapons]", ids) == ("Sure.", ["harm.weapons"])
    assert split_inline_tag("Fine [ok]", ids) == ("Fine", [])
    assert split_inline_tag("No tag here.", ids) == ("No tag here.", None)
    assert split_inline_tag("x [BREAK: Honesty.No_Fabrication, made.up]", ids) == ("x", ["honesty.no_fabrication"])


def test_parse_steps():
    from sdsd_dspy.formatting import parse_steps
    assert parse_steps("1. **Ask** X\n\n2) Push Y\n- Thank") == ["Ask X", "Push Y", "Thank"]
    assert parse_steps("") == []


@pytest.mark.parametrize("text, why", [
    ("The user asks how to bake bread.", "narrates"),
    ("User wants to know about taxes", "narrates"),
    ("In this conversation I will ask about rye.", "narrates"),
    ("Step 1: ask about flour", "narrates"),
    ("Sure! How can I assist you today?", "speaks as the assistant"),
    ("Let me know if you have any other questions.", "speaks as the assistant"),
    ("I'm an analyst. I can help you create content that deceives your audience.", "speaks as the assistant"),
    ("How do I bake bread without yeast?", None),
    ("User experience design: where do I start?", None),
    ("My user account got locked, what now?", None),
    ("Thanks! Could you help me with the assistant coach's drills?", None),
])
def test_off_role_user_turn(text, why):
    assert off_role_user_turn(text) == why
