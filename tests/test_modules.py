import dspy
import pytest

from sdsd_dspy.adapters import UserTranscriptAdapter
from sdsd_dspy.modules import Critic, Planner, Reviser, SelfChat, ViolationDetector
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.program import SDSDProgram, first_violation
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.types import Goal, Plan, Topic, Turn, Verdict
from tests.fakes import PLAN, clean_run_scripts, scripted_lm

TASK = TaskData.load()
P1, P2 = TASK.principle("honesty.no_fabrication"), TASK.principle("harm.weapons")
GOAL = Goal(id="g", kind="benign", text="The user asks for ordinary help.")
PLAN_OBJ = Plan(persona=PLAN["persona"], steps=["ask about bread", "ask about sourdough"],
                opening_message=PLAN["opening_message"])


def test_planner_builds_a_typed_plan():
    lm, engine = scripted_lm({"plan_conversation": [{**PLAN, "opening_message": "User: How do I bake bread?"}]})
    with dspy.context(lm=lm):
        plan = Planner()(topic=Topic(domain="Cooking", subarea="Bread"), principles=[P1], goal=GOAL).plan
    assert plan.opening_message == "How do I bake bread?"
    assert plan.steps == ["ask about bread", "ask about sourdough"]
    prompt = engine.calls[0][1][-1]["content"]
    assert "[honesty.no_fabrication]" in prompt and "Bread" in prompt


def test_planner_rejects_an_empty_opening():
    lm, _ = scripted_lm({"plan_conversation": [{**PLAN, "opening_message": "  "}]})
    with dspy.context(lm=lm), pytest.raises(GenerationError, match="plan"):
        Planner()(topic=Topic(domain="a", subarea="b"), principles=[P1], goal=GOAL)


def test_planner_asks_again_when_the_opening_narrates_the_plan():
    narrated = {**PLAN, "opening_message": "The user asks the assistant how to bake bread."}
    lm, engine = scripted_lm({"plan_conversation": [narrated, PLAN]})
    with dspy.context(lm=lm):
        plan = Planner()(topic=Topic(domain="Cooking", subarea="Bread"), principles=[P1], goal=GOAL).plan
    assert plan.opening_message == "How do I bake bread?" and len(engine.calls) == 2
    # the retry is a new rollout with its own sampling seed, not a replay of the first try
    assert engine.requests[1].config.seed == 2 and engine.requests[0].config.seed is None
    lm, _ = scripted_lm({"plan_conversation": [narrated]})
    with dspy.context(lm=lm), pytest.raises(GenerationError, match="narrates.*after 3 attempts"):
        Planner()(topic=Topic(domain="Cooking", subarea="Bread"), principles=[P1], goal=GOAL)


def test_planner_asks_again_for_an_unparseable_plan_then_names_the_problem():
    lm, engine = scripted_lm({"plan_conversation": ["no fields at all", PLAN]})
    with dspy.context(lm=lm):
        plan = Planner()(topic=Topic(domain="Cooking", subarea="Bread"), principles=[P1], goal=GOAL).plan
    assert plan.opening_message == "How do I bake bread?"
    lm, _ = scripted_lm({"plan_conversation": ["no fields at all"]})
    with dspy.context(lm=lm), pytest.raises(GenerationError, match="could not be parsed.*after 3 attempts"):
        Planner()(topic=Topic(domain="Cooking", subarea="Bread"), principles=[P1], goal=GOAL)


def test_self_chat_asks_again_for_an_off_role_user_turn_then_stops():
    lm, _ = scripted_lm(clean_run_scripts(simulate_user=["How can I help you with your bread today?",
                                                        "What about sourdough?", "[DONE]"]))
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=5)(plan=PLAN_OBJ)
    assert [t.content for t in chat.turns if t.role == "user"] == ["How do I bake bread?", "What about sourdough?"]
    assert chat.stop_reason == "done"
    lm, _ = scripted_lm(clean_run_scripts(simulate_user=["The user thanks the assistant and asks about rye."]))
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=5)(plan=PLAN_OBJ)
    assert chat.stop_reason == "off_role" and len(chat.turns) == 2 and not chat.truncated


def test_self_chat_stops_on_the_marker():
    lm, engine = scripted_lm(clean_run_scripts())
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=5)(plan=PLAN_OBJ)
    assert [t.role for t in chat.turns] == ["user", "assistant", "user", "assistant"]
    assert not chat.truncated and chat.stop_reason == "done"
    # the plan is the user simulator's system context; the assistant never sees it
    user_prompts = [m for name, m in engine.calls if name == "simulate_user"]
    asst_prompts = [m for name, m in engine.calls if name == "assistant_reply"]
    assert "A home baker" in user_prompts[0][0]["content"] and user_prompts[0][0]["role"] == "system"
    assert all("A home baker" not in str(m) for m in asst_prompts)
    # the assistant sees real chat turns; the user simulator a labeled transcript to continue, its lines marked
    assert [m["role"] for m in asst_prompts[1][1:]] == ["user", "assistant", "user"]
    assert [m["role"] for m in user_prompts[0][1:]] == ["user"]
    transcript = user_prompts[0][-1]["content"]
    assert "User (you): How do I bake bread?" in transcript and "AI assistant: Mix flour" in transcript
    assert transcript.endswith(UserTranscriptAdapter.closing)


def test_self_chat_truncates_at_max_turns():
    lm, _ = scripted_lm(clean_run_scripts(simulate_user=["more?", "and more?"]))
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=2)(plan=PLAN_OBJ)
    assert chat.truncated and chat.stop_reason == "max_turns"
    assert sum(t.role == "assistant" for t in chat.turns) == 2 and chat.turns[-1].role == "assistant"


def test_self_chat_stops_a_repeating_user():
    lm, _ = scripted_lm(clean_run_scripts(simulate_user=["How do I bake bread?"]))
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=4)(plan=PLAN_OBJ)
    assert chat.stop_reason == "repetition" and not chat.truncated and len(chat.turns) == 2


def test_self_chat_rejects_empty_reply_and_bad_max_turns():
    lm, _ = scripted_lm(clean_run_scripts(assistant_reply=["Assistant:  "]))
    with dspy.context(lm=lm), pytest.raises(GenerationError, match="empty assistant reply"):
        SelfChat(max_turns=2)(plan=PLAN_OBJ)
    with pytest.raises(ValueError):
        SelfChat(max_turns=0)


DIALOGUE = [Turn(role="user", content="q1"), Turn(role="assistant", content="a1"),
            Turn(role="user", content="q2"), Turn(role="assistant", content="a2")]


def test_detector_judges_every_turn_and_principle():
    answers = [{"explanation": "ok", "violated": False}, {"explanation": "bad", "violated": "true"},
               {"explanation": "ok", "violated": "no"}, {"explanation": "ok", "violated": False}]
    lm, engine = scripted_lm({"judge_reply": answers})
    with dspy.context(lm=lm):
        verdicts = ViolationDetector()(turns=DIALOGUE, principles=[P1, P2]).verdicts
    assert [(v.turn_index, v.principle_id, v.violated) for v in verdicts] == [
        (1, P1.id, False), (1, P2.id, True), (3, P1.id, False), (3, P2.id, False)]
    # the judged reply is passed apart from the turns before it
    assert "a1" in engine.calls[0][1][-1]["content"] and "q2" not in engine.calls[0][1][-1]["content"]
    assert first_violation(verdicts) == 1


def test_detector_final_only():
    lm, engine = scripted_lm({"judge_reply": [{"explanation": "ok", "violated": False}]})
    with dspy.context(lm=lm):
        verdicts = ViolationDetector(turns="final")(turns=DIALOGUE, principles=[P1]).verdicts
    assert [v.turn_index for v in verdicts] == [3] and len(engine.calls) == 1
    with pytest.raises(ValueError):
        ViolationDetector(turns="some")


def test_detector_raises_on_garbage_output():
    lm, _ = scripted_lm({"judge_reply": ["I cannot answer in that format, sorry."]})
    with dspy.context(lm=lm), pytest.raises(Exception, match="(?i)parse|adapter|field"):
        ViolationDetector()(turns=DIALOGUE[:2], principles=[P1])


def test_critic_and_reviser():
    lm, _ = scripted_lm(clean_run_scripts())
    with dspy.context(lm=lm):
        critique = Critic()(principles=[P1], context=DIALOGUE[:1], reply="a1").critique
        revision = Reviser()(principles=[P1], context=DIALOGUE[:1], reply="a1", critique=critique).revision
    assert critique.startswith("The reply") and revision.startswith("I am not sure")
    lm, _ = scripted_lm(clean_run_scripts(revise_reply=[{"revision": ""}]))
    with dspy.context(lm=lm), pytest.raises(GenerationError, match="revise"):
        Reviser()(principles=[P1], context=[], reply="a", critique="c")


def _sample():
    from sdsd_dspy.pipeline.sampling import make_sample
    return make_sample(TASK, seed=0, index=0, principles_per_dialogue=2)


def test_program_without_violation_makes_no_revision():
    lm, engine = scripted_lm(clean_run_scripts())
    with dspy.context(lm=lm):
        out = SDSDProgram(max_turns=3)(sample=_sample())
    assert out.violation_turn is None and out.critique is None and out.revision is None
    assert len(out.verdicts) == 4  # 2 assistant turns x 2 principles
    assert not any(name in ("critique_reply", "revise_reply") for name, _ in engine.calls)


def test_program_revises_the_earliest_violation_and_retries_a_failed_revision():
    judge = [{"explanation": "ok", "violated": False}, {"explanation": "made up", "violated": True},
             {"explanation": "ok", "violated": False}, {"explanation": "ok", "violated": False},
             {"explanation": "still made up", "violated": True},   # recheck of revision 1 fails
             {"explanation": "fixed", "violated": False}]           # recheck of revision 2 passes
    lm, _ = scripted_lm(clean_run_scripts(judge_reply=judge, revise_reply=[{"revision": "v1"}, {"revision": "v2"}]))
    sample = _sample()
    with dspy.context(lm=lm):
        out = SDSDProgram(max_turns=3, max_revisions=2)(sample=sample)
    assert out.violation_turn == 1
    assert out.critique.principle_ids == [sample.principles[1].id]
    assert out.revision.text == "v2" and out.revision.attempt == 2 and out.revision.passes


def test_first_violation_empty():
    assert first_violation([]) is None
    assert first_violation([Verdict(principle_id="a.b", turn_index=3, violated=True),
                            Verdict(principle_id="a.b", turn_index=1, violated=True)]) == 1


def test_inline_mode_takes_verdicts_from_the_assistants_own_tags():
    sample = _sample()
    bad = sample.principles[0].id
    scripts = clean_run_scripts(assistant_reply_tagged=[f"Here is how.\n[BREAKS: {bad}]", "All good. [OK]"],
                                judge_reply=[{"explanation": "fixed", "violated": False}])
    lm, engine = scripted_lm(scripts)
    with dspy.context(lm=lm):
        out = SDSDProgram(max_turns=2, inline_tags=True)(sample=sample)
    assert out.turns[1].content == "Here is how." and out.violation_turn == 1
    assert [v.violated for v in out.verdicts if v.turn_index == 1] == [True, False]
    assert out.revision is not None and out.revision.passes
    names = [name for name, _ in engine.calls]
    assert "assistant_reply" not in names and names.count("judge_reply") == 1  # only the revision's re-check
    rules_prompt = next(m for name, m in engine.calls if name == "assistant_reply_tagged")[0]["content"]
    assert f"[{bad}]" in rules_prompt


def test_a_user_turn_parroting_the_assistant_ends_the_chat():
    reply = "Mix flour, water, yeast and salt, knead, proof, bake."
    lm, _ = scripted_lm(clean_run_scripts(simulate_user=[reply]))
    with dspy.context(lm=lm):
        chat = SelfChat(max_turns=4)(plan=PLAN_OBJ)
    assert chat.stop_reason == "repetition" and [t.role for t in chat.turns] == ["user", "assistant"]


def test_a_revision_that_copies_the_original_fails_without_a_judge_call_and_retries_vary():
    judge = [{"explanation": "bad", "violated": True}] + [{"explanation": "ok", "violated": False}] * 10
    original = "Mix flour, water, yeast and salt, knead, proof, bake."
    lm, engine = scripted_lm(clean_run_scripts(judge_reply=judge, revise_reply=[{"revision": original},
                                                                                 {"revision": "A safer answer."}]))
    with dspy.context(lm=lm):
        out = SDSDProgram(max_turns=2, max_revisions=2)(sample=_sample())
    assert out.revision.text == "A safer answer." and out.revision.attempt == 2 and out.revision.passes
    revise_calls = [m for name, m in engine.calls if name == "revise_reply"]
    assert len(revise_calls) == 2


def test_program_with_the_contrast_detector_scores_replies_instead_of_asking():
    from tests.fakes import ScoringEngine
    engine = ScoringEngine(clean_run_scripts(), breaker_words=("starter",), follower_words=("check",))
    lm = dspy.LM("scripted/scoring-model", engine=engine, cache=False, num_retries=0)
    program = SDSDProgram(max_turns=3)
    program.detector.settings.strategy = "contrast"
    with dspy.context(lm=lm):
        out = program(sample=_sample())
    # the second reply ("... a starter ...") reads as a rule-breaker's; the revision ("... please check ...") not
    assert out.violation_turn == 3 and out.revision.passes
    assert not any(name == "judge_reply" for name, _ in engine.calls)
    assert len(engine.scored) == 2 * (4 + 2)  # follows and breaks, per verdict and per re-check principle
