"""An AutoGluon callback that appends one JSON line per trained model to a file, so the job shows each model as it
finishes. Imported only in the trial process (it needs AutoGluon); a module of its own because AutoGluon pickles its
callbacks with the predictor."""

from __future__ import annotations

import json

from autogluon.core.callbacks import AbstractCallback


class ProgressCallback(AbstractCallback):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _after_model_fit(self, trainer: object, model_names: list[str], **kwargs: object) -> bool:
        with open(self.path, "a", encoding="utf-8") as out:
            for name in model_names:
                line = {
                    "model": name,
                    "fit_seconds": trainer.get_model_attribute(name, "fit_time"),
                    "score_val": trainer.get_model_attribute(name, "val_score"),
                }
                out.write(json.dumps(line, default=float) + "\n")
        return False  # never stops the training
