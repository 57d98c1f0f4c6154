"""scikit-learn's answers for fixed predictions, the reference the lib/eval tests compare against.

Usage: sklearn_reference.py IN.json OUT.json

IN holds lists of cases under these keys (each case has a "name"); OUT has the same keys and names:
  classification:      y_true, y_pred, n_classes      -> accuracy, per-class and averaged scores, confusion
  ranking:             positive (0/1), score          -> roc_curve, roc_auc_score, precision_recall_curve, AP
  multiclass_ranking:  y_true, probs, n_classes       -> one-vs-rest AUC and AP (per class, macro, weighted)
  calibration:         positive (0/1), prob, n_bins   -> calibration_curve(strategy='uniform')
  temperature:         logits, labels                 -> T minimising the NLL (scipy, bounded Brent)
  logistic:            X_train, y_train, X_test, C    -> StandardScaler + LogisticRegression probabilities
Non-finite numbers are written as the strings "inf", "-inf", "nan" (JSON has no such numbers).
"""
import json
import sys
import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    multilabel_confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore")


def plain(x):
    """numpy values -> JSON-safe Python values."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def classification(case):
    y_true, y_pred = case["y_true"], case["y_pred"]
    labels = list(range(case["n_classes"]))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    mcm = multilabel_confusion_matrix(y_true, y_pred, labels=labels)
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    specificity = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0)
    averaged = {}
    for avg in ("macro", "weighted"):
        averaged[avg] = {
            "precision": precision_score(y_true, y_pred, labels=labels, average=avg, zero_division=0),
            "recall": recall_score(y_true, y_pred, labels=labels, average=avg, zero_division=0),
            "f1": f1_score(y_true, y_pred, labels=labels, average=avg, zero_division=0),
            "specificity": float(np.mean(specificity))
            if avg == "macro"
            else float(np.average(specificity, weights=s)) if s.sum() > 0 else 0.0,
        }
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": p,
        "recall": r,
        "f1": f,
        "support": s,
        "specificity": specificity,
        "macro": averaged["macro"],
        "weighted": averaged["weighted"],
        "confusion": confusion_matrix(y_true, y_pred, labels=labels),
        "confusion_normalised": confusion_matrix(y_true, y_pred, labels=labels, normalize="true"),
    }


def ranking(case):
    y, score = np.array(case["positive"]), np.array(case["score"], dtype=float)
    fpr, tpr, thr = roc_curve(y, score)
    fpr_all, tpr_all, thr_all = roc_curve(y, score, drop_intermediate=False)
    precision, recall, pr_thr = precision_recall_curve(y, score)
    return {
        "roc": {"fpr": fpr, "tpr": tpr, "thresholds": thr},
        "roc_all": {"fpr": fpr_all, "tpr": tpr_all, "thresholds": thr_all},
        "auc": roc_auc_score(y, score),
        "pr": {"precision": precision, "recall": recall, "thresholds": pr_thr},
        "ap": average_precision_score(y, score),
    }


def multiclass_ranking(case):
    y, probs = np.array(case["y_true"]), np.array(case["probs"], dtype=float)
    labels = list(range(case["n_classes"]))
    out = {
        "auc_macro": roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=labels),
        "auc_weighted": roc_auc_score(y, probs, multi_class="ovr", average="weighted", labels=labels),
        "auc_per_class": [roc_auc_score(y == c, probs[:, c]) for c in labels],
        "ap_per_class": [average_precision_score(y == c, probs[:, c]) for c in labels],
    }
    if len(np.unique(y)) == len(labels):
        out["ap_macro"] = average_precision_score(y, probs, average="macro")
        out["ap_weighted"] = average_precision_score(y, probs, average="weighted")
    return out


def calibration(case):
    prob_true, prob_pred = calibration_curve(
        np.array(case["positive"]), np.array(case["prob"], dtype=float), n_bins=case["n_bins"], strategy="uniform"
    )
    return {"prob_true": prob_true, "prob_pred": prob_pred}


def temperature(case):
    z, y = np.array(case["logits"], dtype=float), np.array(case["labels"])

    def nll(log_t):
        return -log_softmax(z / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean()

    res = minimize_scalar(nll, bounds=(np.log(1e-3), np.log(1e3)), method="bounded", options={"xatol": 1e-12})
    return {"temperature": np.exp(res.x), "nll_before": nll(0.0), "nll_after": res.fun}


def logistic(case):
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=case["C"], tol=1e-12, max_iter=100000)
    ).fit(np.array(case["X_train"], dtype=float), np.array(case["y_train"]))
    return {"probs": model.predict_proba(np.array(case["X_test"], dtype=float))}


HANDLERS = {
    "classification": classification,
    "ranking": ranking,
    "multiclass_ranking": multiclass_ranking,
    "calibration": calibration,
    "temperature": temperature,
    "logistic": logistic,
}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    out = {}
    for key, cases in spec.items():
        if key not in HANDLERS:
            sys.exit(f"{sys.argv[1]}: unknown section {key!r}")
        out[key] = {case["name"]: plain(HANDLERS[key](case)) for case in cases}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
