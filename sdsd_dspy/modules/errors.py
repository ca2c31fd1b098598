"""Errors raised when a model's output cannot make a valid record."""


class GenerationError(RuntimeError):
    """The model returned something the stage cannot use (empty plan, empty reply...); names the stage."""

    def __init__(self, stage: str, message: str):
        super().__init__(f"{stage}: {message}")
        self.stage = stage
