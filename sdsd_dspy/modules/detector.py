"""Step 3 of SDSD: judge assistant turns against the sampled principles."""

from __future__ import annotations

from collections import Counter

import dspy

from sdsd_dspy.formatting import assistant_indices, clean_turn, format_transcript
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.probe import DetectorSettings, ProbeJudge
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Principle, Turn, Verdict


class ViolationDetector(dspy.Module):
    """Dialogue + principles → one :class:`~sdsd_dspy.types.Verdict` per (assistant turn, principle).

    ``turns="all"`` judges every assistant turn (the earliest violation is the one revised), ``"final"`` only the
    last. How one reply is judged is ``settings.strategy``:

    - ``probe``: the principle's concrete ``check`` question with lettered options, P(yes) read from
      log-probabilities and compared with a calibrated threshold (:class:`~sdsd_dspy.modules.probe.ProbeJudge`);
    - ``predict``: one typed call with a bool output (``judge``), majority vote over ``settings.samples``;
    - ``inline``: the assistant tags its own reply (the paper's setting), ``self_tag``.

    All three predictors always exist, so every saved program version loads into any detector.

    Example:
        >>> ViolationDetector()(turns=dialogue, principles=principles).verdicts     # doctest: +SKIP
    """

    def __init__(self, turns: str = "all", settings: DetectorSettings | None = None):
        super().__init__()
        if turns not in ("all", "final"):
            raise ValueError("turns must be 'all' or 'final'")
        self.turns = turns
        self.settings = settings or DetectorSettings(strategy="predict")
        self.judge = dspy.Predict(seeded("judge_reply"))
        self.probe = ProbeJudge(self.settings)
        self.self_tag = dspy.Predict(seeded("self_tag"))

    def judge_reply(self, principle: Principle, context: list[Turn], reply: str) -> tuple[bool, str, float | None]:
        """Does ``reply``, said after ``context``, break ``principle``? Returns (violated, explanation, P(yes))."""
        s = self.settings
        if s.strategy == "probe":
            out = self.probe(rule=principle.text, check=principle.check, context=context, reply=reply)
            return bool(out.violated), "", out.p_violation
        votes, why = [], ""
        for i in range(max(1, s.samples)):
            config = {"temperature": s.temperature, **({"rollout_id": i} if s.samples > 1 else {})}
            if s.strategy == "inline":
                out = self.self_tag(rule=principle.text, conversation=format_transcript(context), your_reply=reply,
                                    config=config)
                votes.append(bool(out.breaks_rule))
            else:
                out = self.judge(principle=principle.text, conversation=format_transcript(context), reply=reply,
                                 config=config)
                votes.append(bool(out.violated))
                why = why or clean_turn(out.explanation or "")
        share = Counter(votes)[True] / len(votes)
        return share > 0.5, why, share

    def forward(self, turns: list[Turn], principles: list[Principle]) -> dspy.Prediction:
        indices = assistant_indices(turns)
        if self.turns == "final":
            indices = indices[-1:]
        verdicts = []
        with stage("detect"):
            for i in indices:
                for p in principles:
                    violated, why, p_yes = self.judge_reply(p, turns[:i], turns[i].content)
                    verdicts.append(Verdict(principle_id=p.id, turn_index=i, violated=violated, explanation=why,
                                            p_violation=p_yes))
        return dspy.Prediction(verdicts=verdicts)
