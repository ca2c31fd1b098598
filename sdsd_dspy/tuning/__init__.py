"""Tuning the violation detector: recipes, labeled demos, threshold calibration, DSPy optimizers, optuna study."""
