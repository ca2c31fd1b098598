"""One DSPy module per pipeline stage, in the order of the paper."""

from sdsd_dspy.modules.critic import Critic
from sdsd_dspy.modules.detector import ViolationDetector
from sdsd_dspy.modules.planner import Planner
from sdsd_dspy.modules.reviser import Reviser
from sdsd_dspy.modules.self_chat import SelfChat

__all__ = ["Critic", "Planner", "Reviser", "SelfChat", "ViolationDetector"]
