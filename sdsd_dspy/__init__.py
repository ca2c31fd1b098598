"""Self-Directed Synthetic Dialogues (SDSD) as a DSPy program.

The pipeline reads like the paper: plan a conversation, self-chat, detect principle violations, critique and
revise the violating turn. Entry points: ``python -m sdsd_dspy.run``, ``python -m sdsd_dspy.compile``,
``python -m sdsd_dspy.eval`` and ``python -m sdsd_dspy.topics``.
"""

__version__ = "0.1.0"
