import dspy
import pytest

from sdsd_dspy.detection import to_dspy_examples
from sdsd_dspy.labeled import load_labeled
from sdsd_dspy.modules.judges import DetectorSettings, FeatureJudge, ProbeJudge, VotingJudge, feature_question
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.tuning.calibrate import cross_validated_accuracy
from sdsd_dspy.tuning.demos import labeled_demos
from sdsd_dspy.tuning.fit import fit_feature_judge
from sdsd_dspy.tuning.logistic import fit_pooled, logit, predict_pooled
from sdsd_dspy.tuning.recipe import Recipe
from tests.fakes import scripted_lm

TASK = TaskData.load()


def test_pooled_logistic_learns_opposite_signs_per_group():
    # feature means "refused": a violation for helpfulness, not for harm
    x = [[0.9], [0.8], [0.2], [0.1]] * 5
    y_help = [True, True, False, False] * 5
    y_harm = [False, False, True, True] * 5
    weights = fit_pooled(x + x, y_help + y_harm, ["helpfulness"] * 20 + ["harm"] * 20)
    assert weights["helpfulness"][0] > 0 > weights["harm"][0]
    assert predict_pooled(weights, [0.9], "helpfulness") > 0.5 > predict_pooled(weights, [0.9], "harm")
    assert 0.0 < predict_pooled(weights, [0.9], "unknown-group") < 1.0  # falls back to the shared weights
    assert logit(0.0) < -9 and logit(1.0) > 9


def test_cross_validated_accuracy_is_honest():
    labels = [True, False] * 10
    assert cross_validated_accuracy(labels, [0.9 if y else 0.1 for y in labels]) == 1.0
    assert cross_validated_accuracy(labels, [0.5] * 20) <= 0.5 + 1e-9


def test_feature_questions():
    p = TASK.principle("helpfulness.no_needless_refusal")
    q, letter = feature_question("options", p)
    assert p.options.breaks in q.split("B) ")[1] and letter == "B"
    q, letter = feature_question("options_swapped", p)
    assert p.options.breaks in q.split("A) ")[1].split("\n")[0] and letter == "A"
    assert feature_question("refuse", p)[1] == "B"
    bare = p.model_copy(update={"options": None})
    assert feature_question("options", bare)[0].startswith(p.check)


def test_labeled_demos_are_balanced_and_shaped_for_each_judge():
    ex = to_dspy_examples(load_labeled("evals/detector/train.jsonl"), TASK)
    demos = labeled_demos(ProbeJudge(DetectorSettings(yes_letter="A")), ex, 4, seed=1)
    assert [d.answer for d in demos].count("A") == 2 and set(demos[0].keys()) == {
        "rule", "conversation", "reply", "question", "answer"}
    assert set(labeled_demos(VotingJudge("self_tag"), ex, 2)[0].keys()) >= {"your_reply", "breaks_rule"}
    assert labeled_demos(VotingJudge("judge_reply"), ex, 2)[0]["explanation"]
    assert labeled_demos(ProbeJudge(), ex, 0) == []


def test_feature_judge_fit_and_predict():
    ex = to_dspy_examples(load_labeled("evals/detector/train.jsonl")[:8], TASK)
    # no logprobs from the fake engine: each feature is 1.0 when it answers the feature's letter
    lm, engine = scripted_lm({"check_reply": [{"answer": "B"}, {"answer": "A"}, {"answer": "B"}] * 50})
    judge = FeatureJudge(DetectorSettings(strategy="features", features=["options", "options_swapped", "refuse"]))
    weights = fit_feature_judge(judge, ex, lm)
    assert "*" in weights and len(weights["*"]) == 4
    with dspy.context(lm=lm):
        out = judge(principle=ex[0].principle, context=ex[0].context, reply=ex[0].reply)
    assert 0.0 <= out.p_violation <= 1.0 and len(out.features) == 3
    # the three questions about one reply share everything before the question
    firsts = [m[-1]["content"].split("Question:")[0] for _, m in engine.calls[:3]]
    assert firsts[0] == firsts[1] == firsts[2]


def test_recipe_budget_scaling():
    r = Recipe(name="x", optimizer="optuna", budget={"n_trials": 8, "max_metric_calls": 150, "frac": 0.5})
    assert r.scaled_budget(2) == {"n_trials": 16, "max_metric_calls": 300, "frac": 1.0}
    assert r.scaled_budget(0.01)["n_trials"] == 1
    with pytest.raises(ValueError):
        Recipe(name="bad name!", optimizer="optuna")
