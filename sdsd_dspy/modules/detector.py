"""Step 3 of SDSD: judge assistant turns against the sampled principles."""

from __future__ import annotations

import logging

import dspy

from sdsd_dspy.formatting import assistant_indices
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.contrast import ContrastJudge, ScoringUnsupported
from sdsd_dspy.modules.judges import DetectorSettings, FeatureJudge, ProbeJudge, VotingJudge
from sdsd_dspy.types import Principle, Turn, Verdict

log = logging.getLogger(__name__)

_ATTR = {"probe": "probe", "features": "combined", "predict": "judge", "inline": "self_tag", "contrast": "contrast"}


class ViolationDetector(dspy.Module):
    """Dialogue + principles → one :class:`~sdsd_dspy.types.Verdict` per (assistant turn, principle).

    ``turns="all"`` judges every assistant turn (the earliest violation is the one revised), ``"final"`` only the
    last. How one reply is judged is ``settings.strategy``:

    - ``probe``: the principle's concrete ``check`` question with lettered options, P(yes) read from
      log-probabilities and compared with a calibrated threshold (:class:`~sdsd_dspy.modules.judges.ProbeJudge`);
    - ``features``: several such questions combined by a per-category logistic model
      (:class:`~sdsd_dspy.modules.judges.FeatureJudge`);
    - ``predict``: one typed call with a bool output (``judge``), majority vote over ``settings.samples``;
    - ``inline``: the assistant tags its own reply (the paper's setting), ``self_tag``;
    - ``contrast``: the reply's likelihood from an assistant told to break the principle against one told to
      follow it (:class:`~sdsd_dspy.modules.contrast.ContrastJudge`); on a model that cannot score given text,
      the typed ``judge`` decides instead.

    All judges always exist, so every saved program version loads into any detector.

    Example:
        >>> ViolationDetector()(turns=dialogue, principles=principles).verdicts     # doctest: +SKIP
    """

    def __init__(self, turns: str = "all", settings: DetectorSettings | None = None):
        super().__init__()
        if turns not in ("all", "final"):
            raise ValueError("turns must be 'all' or 'final'")
        self.turns = turns
        self.settings = settings or DetectorSettings(strategy="predict")
        self.judge = VotingJudge("judge_reply", self.settings)
        self.probe = ProbeJudge(self.settings)
        self.self_tag = VotingJudge("self_tag", self.settings)
        self.combined = FeatureJudge(self.settings)
        self.contrast = ContrastJudge(self.settings)
        self._fell_back = False

    def active_judge(self) -> dspy.Module:
        """The judge module the current strategy uses (what an optimizer compiles)."""
        return getattr(self, _ATTR[self.settings.strategy])

    def set_active_judge(self, judge: dspy.Module) -> None:
        """Put a compiled judge in place of the active one; its settings become the detector's."""
        setattr(self, _ATTR[judge.settings.strategy], judge)
        self.settings = judge.settings
        for name in _ATTR.values():
            getattr(self, name).settings = self.settings

    def judge_reply(self, principle: Principle, context: list[Turn], reply: str) -> tuple[bool, str, float | None]:
        """Does ``reply``, said after ``context``, break ``principle``? Returns (violated, explanation, P(yes))."""
        try:
            out = self.active_judge()(principle=principle, context=context, reply=reply)
        except ScoringUnsupported:
            if not self._fell_back:
                log.warning("the contrast detector needs a model that scores given text; this one cannot, so the "
                            "typed judge_reply call decides instead")
                self._fell_back = True
            out = self.judge(principle=principle, context=context, reply=reply)
        return bool(out.violated), out.explanation, out.p_violation

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
