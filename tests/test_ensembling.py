"""Ensembling mode (AutoGluon) end to end, the auto mode switch, and one leaderboard format for both modes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from autopilot import AutoPilot, load_job
from autopilot.errors import ConfigError
from autopilot.pipeline import AutopilotPipeline
from autopilot.search.plan import choose_mode

pytest.importorskip("autogluon.tabular")

PENGUINS = Path(__file__).resolve().parents[1] / "datasets" / "penguins.csv"
FAST = {"algorithms": ["lightgbm", "linear-learner", "mlp"], "time_limit": 60, "verbose": False}  # a stack fits in 60 s


@pytest.fixture(scope="module")
def ensemble_job(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ens") / "penguins"
    return AutoPilot(target="species", output=out, seed=1, **FAST).fit(PENGUINS)  # auto: 15 KB -> ensembling


def test_ensembling_reports_every_autogluon_model_as_a_trial(ensemble_job) -> None:
    assert ensemble_job.info["resolved"]["mode"] == "ensembling"
    assert "<= 100 MB" in ensemble_job.info["resolved"]["mode_reason"]
    board = ensemble_job.leaderboard
    models = {t.split("-", 1)[1] for t in board["trial"]}
    own = {"LinearLearner_BAG_L1", "AutopilotMLP_BAG_L1"}  # autopilot's own candidates, bagged inside AutoGluon
    assert {"LightGBM_BAG_L1", "WeightedEnsemble_L2", *own} <= models  # bagged, stacked, ensembled
    assert any(m.endswith("_L2") and not m.startswith("Weighted") for m in models)
    assert (board["status"] == "succeeded").all() and (board["candidate"] == "autogluon").all()
    assert board["Accuracy"].iloc[0] == board["Accuracy"].max() > 0.9
    assert board["predict_seconds"].notna().all() and (board["fit_seconds"] > 0).all()
    by_model = board.assign(model=[t.split("-", 1)[1] for t in board["trial"]]).set_index("model")
    members = by_model["fit_seconds_with_members"]  # AutoGluon's cumulative time, apart from the model's own
    assert members["LightGBM_BAG_L1"] != members["LightGBM_BAG_L1"]  # a first-level model has no members: empty
    for model in [m for m in by_model.index if m.endswith("_L2")]:  # the ensemble and the stack level: theirs too
        assert members[model] > by_model.loc[model, "fit_seconds"], model


def test_candidate_notebook_describes_the_autogluon_models(ensemble_job) -> None:
    text = (ensemble_job.path / "notebooks" / "candidate_definitions.ipynb").read_text()
    assert "### dpp0: lightgbm" in text and "AutoGluon model `GBM`" in text and "### dpp1: linear-learner" in text
    assert "AutoGluon model `autopilot.ensemble_candidates.LinearLearnerModel`" in text
    assert "retrain_autogluon(JOB" in text  # the best AutoGluon model is remade from the data file


@pytest.mark.parametrize("model", ["LinearLearner_BAG_L1", "WeightedEnsemble_L2"])
def test_an_autogluon_model_retrained_from_the_data_file_scores_as_the_leaderboard_says(ensemble_job, model) -> None:
    from autopilot.reproduce import retrain_autogluon

    board = ensemble_job.leaderboard.set_index("trial")
    trial = next(t for t in board.index if t.endswith(f"-{model}"))
    metrics = retrain_autogluon(ensemble_job.path, trial, data=PENGUINS)  # bagged; the ensemble with its members
    for name in ("Accuracy", "LogLoss", "AUC"):
        assert metrics[name] == pytest.approx(board.loc[trial, name], abs=1e-6), name


def test_the_model_card_lists_an_ensembles_members_and_weights(ensemble_job) -> None:
    from autopilot.model_card import model_card
    from autopilot.pipeline import AutopilotPipeline
    from autopilot.search.runner import MODEL_FILE

    trial = next(t for t in ensemble_job.leaderboard["trial"] if t.endswith("-WeightedEnsemble_L2"))
    card = model_card(AutopilotPipeline.load(ensemble_job.path / "trials" / trial / MODEL_FILE))
    weights = [m["weight"] for m in card["members"]]
    assert card["members"] and sum(weights) == pytest.approx(1.0, abs=1e-3) and weights == sorted(weights)[::-1]
    assert all(m["model"].endswith("_BAG_L1") for m in card["members"]) and "weighted average" in card["summary"]
    assert any("category codes" in line and "island" in line for line in card["preprocessing"])
    stacked = next(t for t in ensemble_job.leaderboard["trial"] if t.endswith("-LightGBM_BAG_L2"))
    card = model_card(AutopilotPipeline.load(ensemble_job.path / "trials" / stacked / MODEL_FILE))
    assert "bagged: 5 models" in card["summary"] and "stacked on the predictions" in card["summary"]
    assert card["members"] and all(m["weight"] is None for m in card["members"])


@pytest.mark.slow  # retrains a stack-level model and its members (about a minute)
def test_the_candidate_notebook_retrains_the_best_autogluon_model(ensemble_job) -> None:
    from tests.test_notebooks import _execute, _printed

    printed = _printed(_execute(ensemble_job.path / "notebooks" / "candidate_definitions.ipynb"))
    assert "reproduced: within 1e-6 of the leaderboard's score" in printed, printed[-2000:]
    assert "Accuracy: retrained" in printed


def test_same_leaderboard_columns_in_both_modes(ensemble_job, tmp_path: Path) -> None:
    hpo = AutoPilot(
        target="species",
        output=tmp_path / "hpo",
        mode="hpo",
        strategy="defaults",
        verbose=False,
        algorithms=["xgboost"],
    ).fit(PENGUINS)
    assert list(hpo.leaderboard.columns) == list(ensemble_job.leaderboard.columns)
    assert hpo.leaderboard["predict_seconds"].notna().all()


def test_predicts_from_a_moved_folder(ensemble_job, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "job"
    shutil.copytree(ensemble_job.path, moved)
    rows = pd.read_csv(PENGUINS).drop(columns=["species"]).head(20)
    expected = ensemble_job.predict(rows)
    hidden = tmp_path / "original-out-of-the-way"
    ensemble_job.path.rename(hidden)  # the copy must not reach back to the original folder
    try:
        pd.testing.assert_frame_equal(load_job(moved).predict(rows), expected)
        with pytest.raises(Exception, match="island"):
            load_job(moved).predict(rows.drop(columns=["island"]))
    finally:
        hidden.rename(ensemble_job.path)


def test_autopilots_own_models_in_the_ensemble_predict_from_their_files(ensemble_job, tmp_path: Path) -> None:
    from autopilot.pipeline import AutopilotPipeline
    from autopilot.search.runner import MODEL_FILE

    rows = pd.read_csv(PENGUINS)
    board = ensemble_job.leaderboard.set_index("trial")
    for name in ("LinearLearner_BAG_L1", "AutopilotMLP_BAG_L1"):
        trial = next(t for t in board.index if t.endswith(f"-{name}"))
        pipeline = AutopilotPipeline.load(ensemble_job.path / "trials" / trial / MODEL_FILE)
        predicted = pipeline.predict(rows.drop(columns=["species"]))
        assert set(predicted) <= {"Adelie", "Chinstrap", "Gentoo"}
        assert (predicted == rows["species"]).mean() > 0.9  # rows it learned from (bagged), so near perfect
        assert board.loc[trial, "Accuracy"] > 0.9  # its out-of-fold score


def test_auto_switch_by_size_and_by_strategy() -> None:
    assert choose_mode("auto", "auto", 15_000)[0] == "ensembling"
    assert choose_mode("auto", "auto", 15_000, max_bytes=1_000) == ("hpo", "14.6 KB of data > 0.001 MB")
    assert choose_mode("auto", "auto", 101 * 1000**2)[0] == "hpo"
    assert choose_mode("auto", "bayesian", 15_000) == ("hpo", "--strategy bayesian was given")
    assert choose_mode("ensembling", "auto", 10**12)[0] == "ensembling"
    with pytest.raises(ConfigError, match="--mode must be one of"):
        choose_mode("stacking", "auto", 1)


def test_ensembling_refuses_unknown_algorithms(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not used in ensembling mode"):
        AutoPilot(target="species", output=tmp_path / "x", mode="ensembling", algorithms=["svm"]).fit(PENGUINS)
    assert not (tmp_path / "x").exists()


class _FakePredictor:
    """Stands in for a TabularPredictor whose decision threshold was calibrated to 0.3."""

    decision_threshold = 0.3

    def predict_proba(self, X: pd.DataFrame, model: str, as_multiclass: bool) -> pd.DataFrame:
        positive = X["x"].to_numpy(dtype=float)
        return pd.DataFrame({"no": 1 - positive, "yes": positive})


def test_binary_predictions_use_the_calibrated_decision_threshold() -> None:
    from autopilot.ensemble import AutoGluonPipeline
    from autopilot.problem import Problem

    problem = Problem("y", "binary", "F1", "test", classes=["no", "yes"], positive_label="yes")
    pipeline = AutoGluonPipeline(problem, "WeightedEnsemble_L2", ["x"])
    pipeline.bind(_FakePredictor())
    codes, proba = pipeline.predict_encoded(pd.DataFrame({"x": [0.1, 0.35, 0.6, 0.25]}))
    assert codes.tolist() == [0, 1, 1, 0]  # 0.35 is "yes" at the 0.3 threshold, though under 0.5
    assert proba[:, 1].tolist() == pytest.approx([0.1, 0.35, 0.6, 0.25])


def _stopping_metrics(job_dir: Path) -> dict[str, str]:
    from autogluon.tabular import TabularPredictor

    trainer = TabularPredictor.load(str(job_dir / "autogluon"), verbosity=0)._trainer
    names = [name for name in trainer.get_model_names() if name.startswith("LightGBM")]
    return {
        name: trainer.load_model(name).load_child(trainer.load_model(name).models[0]).stopping_metric.name
        for name in names
    }


def test_models_stop_early_on_log_loss_for_a_threshold_objective(ensemble_job, tmp_path: Path) -> None:
    data = pd.read_csv(PENGUINS).assign(species=lambda f: (f["species"] == "Adelie").map({True: "yes", False: "no"}))
    options = {"mode": "ensembling", "algorithms": ["lightgbm"], "time_limit": 30, "verbose": False}
    binary = AutoPilot(target="species", output=tmp_path / "job", seed=0, **options).fit(data)
    assert json.loads((binary.path / "problem.json").read_text())["metric"] == "F1"
    f1_stops = _stopping_metrics(binary.path)
    assert f1_stops and set(f1_stops.values()) == {"log_loss"}  # not F1 at 0.5, which the tuned threshold moves
    assert set(_stopping_metrics(ensemble_job.path).values()) == {"accuracy"}  # other objectives: AutoGluon's way


def test_bagged_models_are_scored_out_of_fold_over_every_row(ensemble_job) -> None:
    board, manifest = ensemble_job.leaderboard, json.loads((ensemble_job.path / "best" / "manifest.json").read_text())
    assert ensemble_job.info["resolved"]["ensemble_plan"]["scheme"] == "bagging"
    assert (board["scored_by"] == "5-fold out-of-fold (344 rows)").all()
    assert manifest["trained_on"] == "every labelled row (344)" and manifest["refit"] is None
    truth = pd.read_parquet(ensemble_job.path / "trials" / board["trial"].iloc[0] / "predictions.parquet")["truth"]
    assert len(truth) == 344  # the insights come from the out-of-fold predictions, not from rows the model saw


def test_holdout_plan_refits_the_best_on_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import autopilot.job as job_module
    from autopilot.ensemble_plan import EnsemblePlan

    plan = EnsemblePlan("holdout", 0, 0, True, ["catboost"], 1.0, ["forced by the test"])
    monkeypatch.setattr(job_module, "plan_ensembling", lambda *args, **kwargs: plan)
    options = {"mode": "ensembling", "algorithms": ["catboost"], "time_limit": 90, "verbose": False}
    job = AutoPilot(target="species", output=tmp_path / "job", seed=0, **options).fit(PENGUINS)
    board = job.leaderboard
    assert (board["scored_by"] == "holdout (69 validation rows)").all()
    validation = pd.read_parquet(job.path / "data" / "validation.parquet").drop(columns=["species"])
    for trial in board["trial"]:  # the scores come from AutoGluon's kept outputs: what each model predicts anew
        folder = job.path / "trials" / trial
        kept = pd.read_parquet(folder / "predictions.parquet").filter(like="proba_")
        anew = AutopilotPipeline.load(folder / "pipeline.joblib").predict_proba(validation)
        pd.testing.assert_frame_equal(kept, anew[kept.columns], check_exact=False, rtol=1e-6)
    manifest = json.loads((job.path / "best" / "manifest.json").read_text())
    assert manifest["trained_on"] == "every labelled row (344)"
    assert manifest["refit"]["model"].endswith("_FULL") and manifest["refit"]["rows"] == 344
    assert job.best.model_name == manifest["refit"]["model"]
    scored = load_job(job.path)  # the scored model stays in its trial; the refit one predicts from best/
    rows = pd.read_csv(PENGUINS).drop(columns=["species"]).head(30)
    assert scored.predict(rows)["predicted_label"].isin(["Adelie", "Chinstrap", "Gentoo"]).all()
    page = (job.path / "report.html").read_text()
    assert "every labelled row (344)" in page and f"autopilot predict {job.path} new_rows.csv" in page
    assert "too few to tell the top models apart" in page  # 69 holdout rows, several models within one of them
    summary = json.loads((job.path / "explain" / "summary.json").read_text())
    assert summary["method"] == "native tree SHAP of AutoGluon's tree models"  # one CatBoost, refit: exact


def test_native_shap_of_bagged_and_weighted_tree_regressors_adds_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import autopilot.job as job_module
    from autopilot.ensemble_plan import EnsemblePlan
    from autopilot.explain import explain
    from autopilot.pipeline import AutopilotPipeline

    plan = EnsemblePlan("bagging", 3, 0, False, ["lightgbm", "xgboost", "catboost"], 1.0, ["forced by the test"])
    monkeypatch.setattr(job_module, "plan_ensembling", lambda *args, **kwargs: plan)
    diabetes = PENGUINS.parent / "diabetes.csv"
    options = {"mode": "ensembling", "algorithms": ["lightgbm", "xgboost", "catboost"], "time_limit": 120}
    job = AutoPilot(target="progression", output=tmp_path / "job", seed=0, verbose=False, **options).fit(diabetes)
    rows = pd.read_parquet(job.path / "data" / "validation.parquet").head(40)
    train = pd.read_parquet(job.path / "data" / "train.parquet")
    for trial in job.leaderboard["trial"]:
        pipeline = AutopilotPipeline.load(job.path / "trials" / trial / "pipeline.joblib")
        explanation = explain(pipeline, rows, train)
        assert explanation.method == "native tree SHAP of AutoGluon's tree models", trial
        total = explanation.base_values + explanation.values.sum(axis=1).to_numpy()
        np.testing.assert_allclose(total, pipeline.predict(rows), rtol=1e-4, err_msg=trial)  # exact, to float32
        assert list(explanation.values.columns) == pipeline.required_columns
    sized = explain(pipeline, rows, train, seconds=0.0)  # no time at all: only the two timed batches are explained
    assert sized.shrunk == "explained 30 of 40 rows, the fewest it explains: no time was left"
    pd.testing.assert_frame_equal(sized.values, explanation.values.iloc[:30])
    summary = json.loads((job.path / "explain" / "summary.json").read_text())
    assert summary["method"] == "native tree SHAP of AutoGluon's tree models"
    assert summary["rows"] == job.info["resolved"]["validation_rows"] and not summary["shrunk"]


def test_a_bagged_classifier_is_explained_model_agnostically(ensemble_job) -> None:
    """Its probability is a mean of the folds' probabilities, which no sum of log-odds attributions equals."""
    summary = json.loads((ensemble_job.path / "explain" / "summary.json").read_text())
    assert summary["method"].startswith("permutation SHAP")


def test_native_shap_maps_columns_the_library_renamed_back_by_position() -> None:
    """LightGBM's preprocessing in AutoGluon writes 'mean radius' as 'mean_radius'; attributions must still reach
    'mean radius' (breast cancer's best model fell back to permutation SHAP before)."""
    from types import SimpleNamespace

    from autopilot.explain_autogluon import _names, _source

    model = SimpleNamespace(features=["mean radius", "when.year"])
    names = _names(model, pd.DataFrame(columns=["mean_radius", "when_year"]))
    assert [_source(n, ["mean radius", "when"]) for n in names] == ["mean radius", "when"]


def test_families_that_trained_nothing_are_named() -> None:
    from autopilot.ensemble_families import untrained_families

    models = ["LightGBMXT_BAG_L1", "CatBoost_FULL", "WeightedEnsemble_L2"]
    families = ["lightgbm", "catboost", "nn-torch", "extra-trees"]
    assert untrained_families(families, models) == ["nn-torch", "extra-trees"]


@pytest.mark.slow  # a whole second AutoGluon fit (about 2 minutes); tests/faults kills ensembling runs anywhere
def test_a_run_killed_while_writing_its_models_is_run_again_on_resume(ensemble_job, tmp_path: Path) -> None:
    from autopilot.ensemble import SCORED_FILE

    copy = tmp_path / "penguins"
    shutil.copytree(ensemble_job.path, copy)
    job = json.loads((copy / "job.json").read_text())
    (copy / "job.json").write_text(json.dumps({**job, "status": "running"}))  # as a killed run leaves it
    (copy / "autogluon" / SCORED_FILE).unlink()
    trials = sorted((copy / "trials").iterdir())
    for trial in trials[len(trials) // 2 :]:  # killed half way through writing the models' trials
        shutil.rmtree(trial)
    options = {**FAST, "time_limit": 150}  # a longer limit: a resumed run may have one
    resumed = AutoPilot(target="species", output=copy, seed=1, **options).fit(PENGUINS)
    assert resumed.info["status"] == "completed"
    scored = json.loads((copy / "autogluon" / SCORED_FILE).read_text())["trials"]
    assert sorted(resumed.leaderboard["trial"]) == sorted(scored) == sorted(p.name for p in (copy / "trials").iterdir())
    assert len(scored) >= len(ensemble_job.leaderboard)  # every model trained again: none lost, none left half


def _what_the_fit_would_see(data: object, run: object) -> tuple[int, bool]:
    import gc

    from autogluon.tabular.predictor import predictor

    return gc.get_freeze_count(), predictor.warn_if_mlflow_autologging_is_enabled.__name__ == "<lambda>"


def _in_trial_process() -> tuple[int, bool]:
    import autopilot.ensemble as ensemble

    ensemble.run_ensembling = _what_the_fit_would_see  # in the trial process only: what the fit would start with
    return ensemble.run_in_trial_process(None, None)


def test_the_trial_process_freezes_import_time_objects_and_skips_autogluons_mlflow_import() -> None:
    from autopilot.search.processes import TrialProcessExecutor

    with TrialProcessExecutor() as executor:
        frozen, quiet = executor.submit(_in_trial_process).result(timeout=120)
    assert frozen > 10_000  # the libraries' objects: AutoGluon's gc.collect calls no longer walk them
    assert quiet  # MLflow was never imported there, so its autologging cannot be on: no 2 s import to check
