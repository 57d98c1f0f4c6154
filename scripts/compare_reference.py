"""Reference answers for the paired model comparison in lib/eval (DeLong, McNemar, operating points).

Usage: .venv/bin/python scripts/compare_reference.py [OUT.json]   (default test/eval/fixtures/compare-reference.json)

Writes seeded inputs together with the answers, so the TypeScript tests need no Python. The DeLong reference is the
classic O(m·n) structural-components form (DeLong, DeLong & Clarke-Pearson 1988), written out here on purpose instead
of the midrank algorithm lib/eval/delong.ts implements (Sun & Xu 2014), and its AUCs are checked against
scikit-learn's roc_auc_score. McNemar's exact p is scipy.stats.binomtest; thresholds come from sklearn's roc_curve.

Conventions shared with lib/eval (documented there too):
  - DeLong: z = (AUC_A − AUC_B) / √Var; a zero variance gives z = 0, p = 1 when the AUCs are equal.
  - Holm: the per-class p values of a 3-class comparison, over the classes whose p is defined.
  - Operating point: the highest validation threshold t whose sensitivity (score ≥ t is positive) reaches the target.
  - Net benefit at threshold probability pt: TP/N − FP/N · pt / (1 − pt), score ≥ pt is positive.
"""
import json
import os
import sys

import numpy as np
from scipy.stats import binomtest, norm
from sklearn.metrics import roc_auc_score, roc_curve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "test", "eval", "fixtures", "compare-reference.json")
PREVALENCES = [0.01, 0.05, 0.2]


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def delong_classic(positive, scores_a, scores_b):
    """Paired DeLong test from the structural components V10 (per positive) and V01 (per negative)."""
    positive = np.asarray(positive, dtype=bool)
    out = {"auc": [], "v10": [], "v01": []}
    for s in (np.asarray(scores_a, float), np.asarray(scores_b, float)):
        xs, ys = s[positive], s[~positive]
        kernel = np.array([[psi(x, y) for y in ys] for x in xs])
        out["auc"].append(kernel.mean())
        out["v10"].append(kernel.mean(axis=1))
        out["v01"].append(kernel.mean(axis=0))
    m, n = positive.sum(), (~positive).sum()
    s10 = np.cov(np.vstack(out["v10"]), ddof=1)
    s01 = np.cov(np.vstack(out["v01"]), ddof=1)
    s = s10 / m + s01 / n
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    diff = out["auc"][0] - out["auc"][1]
    for k, scores in enumerate((scores_a, scores_b)):
        assert abs(out["auc"][k] - roc_auc_score(positive, scores)) < 1e-12, "DeLong AUC disagrees with sklearn"
    if var <= 0:
        z = 0.0 if diff == 0 else float(np.sign(diff)) * np.inf
    else:
        z = diff / np.sqrt(var)
    return {"auc": out["auc"], "var": [s[0, 0], s[1, 1]], "cov": s[0, 1], "z": z, "p": 2 * norm.sf(abs(z))}


def holm(pvalues):
    p = np.asarray(pvalues, float)
    finite = np.flatnonzero(np.isfinite(p))
    adjusted = np.full(len(p), np.nan)
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * p[idx]))
        adjusted[idx] = running
    return adjusted


def mcnemar(correct_a, correct_b):
    a, b_ = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    b, c = int((a & ~b_).sum()), int((~a & b_).sum())
    p = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    return {"b": b, "c": c, "p": p}


def operating_point(case):
    val_pos, val_scores = np.asarray(case["val_positive"], bool), np.asarray(case["val_scores"], float)
    fpr, tpr, thr = roc_curve(val_pos, val_scores, drop_intermediate=False)
    i = int(np.argmax(tpr >= case["target"] - 1e-12))
    t = thr[i]
    pos, scores = np.asarray(case["test_positive"], bool), np.asarray(case["test_scores"], float)
    called = scores >= t
    sens = (called & pos).sum() / pos.sum()
    spec = (~called & ~pos).sum() / (~pos).sum()
    ppv = [sens * q / (sens * q + (1 - spec) * (1 - q)) for q in PREVALENCES]
    npv = [spec * (1 - q) / (spec * (1 - q) + (1 - sens) * q) for q in PREVALENCES]
    pts = np.asarray(case["net_benefit_thresholds"], float)
    n = len(pos)
    nb = [((scores >= pt) & pos).sum() / n - ((scores >= pt) & ~pos).sum() / n * pt / (1 - pt) for pt in pts]
    treat_all = [pos.mean() - (1 - pos.mean()) * pt / (1 - pt) for pt in pts]
    return {
        "threshold": t,
        "val_sensitivity": tpr[i],
        "val_specificity": 1 - fpr[i],
        "sensitivity": sens,
        "specificity": spec,
        "prevalences": PREVALENCES,
        "ppv": ppv,
        "npv": npv,
        "net_benefit": nb,
        "treat_all": treat_all,
    }


def binary_scores(rng, positive, strength, decimals):
    """Scores loosely related to the labels, rounded so that many tie."""
    return np.round(np.clip(strength * positive + (1 - strength) * rng.random(len(positive)), 0, 1), decimals)


def delong_cases(rng):
    cases = []

    def add(name, positive, a, b):
        cases.append({"name": name, "positive": [int(x) for x in positive], "a": list(map(float, a)), "b": list(map(float, b))})

    pos = (rng.random(200) < 0.4).astype(int)
    add("ties_n200", pos, binary_scores(rng, pos, 0.35, 2), binary_scores(rng, pos, 0.25, 1))
    pos = (rng.random(60) < 0.5).astype(int)
    add("strong_vs_weak_n60", pos, binary_scores(rng, pos, 0.6, 3), binary_scores(rng, pos, 0.05, 3))
    # The second model is the first plus noise: strongly correlated AUCs, a small variance of their difference.
    pos = (rng.random(120) < 0.3).astype(int)
    a = binary_scores(rng, pos, 0.3, 4)
    add("correlated_n120", pos, a, np.round(np.clip(a + 0.05 * rng.standard_normal(len(a)), 0, 1), 4))
    add("tiny_2x2", [1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1], [0.6, 0.7, 0.2, 0.7])
    add("tiny_all_tied", [1, 0, 1, 0, 0], [0.5] * 5, [0.8, 0.2, 0.5, 0.5, 0.1])
    add("identical", pos[:30], a[:30], a[:30])
    add("both_perfect", [1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [0.6, 0.99, 0.55, 0.5, 0.01, 0.2])
    out = []
    for c in cases:
        out.append({**c, "expected": delong_classic(c["positive"], c["a"], c["b"])})
    return out


def multiclass_cases(rng):
    out = []
    for name, n in (("three_class_n150", 150), ("three_class_n24", 24)):
        labels = rng.integers(0, 3, n)
        probs = []
        for model in range(2):
            logits = (1.5 - model) * np.eye(3)[labels] + rng.standard_normal((n, 3))
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            probs.append(np.round(p, 2))  # rounded: ties, and rows need not sum exactly to 1 (as after any rounding)
        per_class = [delong_classic(labels == k, probs[0][:, k], probs[1][:, k]) for k in range(3)]
        adjusted = holm([r["p"] for r in per_class])
        for r, q in zip(per_class, adjusted):
            r["p_holm"] = q
        out.append({"name": name, "labels": labels.tolist(), "a": probs[0].tolist(), "b": probs[1].tolist(), "expected": per_class})
    return out


def mcnemar_cases(rng):
    def vectors(both_right, b, c, both_wrong):
        a = [1] * both_right + [1] * b + [0] * c + [0] * both_wrong
        bb = [1] * both_right + [0] * b + [1] * c + [0] * both_wrong
        order = rng.permutation(len(a))
        return [a[i] for i in order], [bb[i] for i in order]

    specs = {
        "no_discordant": (20, 0, 0, 3),
        "b5_c0": (10, 5, 0, 2),
        "b3_c3": (10, 3, 3, 1),
        "b1_c2": (0, 1, 2, 0),
        "b40_c25": (150, 40, 25, 10),
        "b800_c700": (100, 800, 700, 50),
    }
    out = []
    for name, spec in specs.items():
        a, b = vectors(*spec)
        out.append({"name": name, "correct_a": a, "correct_b": b, "expected": mcnemar(a, b)})
    return out


def operating_point_cases(rng):
    out = []
    pts = [round(x, 2) for x in np.arange(0.01, 1.0, 0.07)]
    for name, n, strength, target in (("ties_target95", 160, 0.4, 0.95), ("fine_target80", 90, 0.3, 0.8), ("target_one", 50, 0.5, 1.0)):
        vp = (rng.random(n) < 0.35).astype(int)
        tp = (rng.random(n) < 0.35).astype(int)
        case = {
            "name": name,
            "target": target,
            "val_positive": vp.tolist(),
            "val_scores": binary_scores(rng, vp, strength, 2).tolist(),
            "test_positive": tp.tolist(),
            "test_scores": binary_scores(rng, tp, strength, 2).tolist(),
            "net_benefit_thresholds": pts,
        }
        out.append({**case, "expected": operating_point(case)})
    return out


def plain(x):
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf") if np.isinf(x) else x
    return x


def main():
    out_file = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    rng = np.random.default_rng(20140722)
    fixture = {
        "generator": "scripts/compare_reference.py",
        "delong": delong_cases(rng),
        "multiclass_delong": multiclass_cases(rng),
        "mcnemar": mcnemar_cases(rng),
        "operating_point": operating_point_cases(rng),
    }
    os.makedirs(os.path.dirname(out_file), exist_ok=True)
    with open(out_file, "w") as f:
        json.dump(plain(fixture), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out_file}")


if __name__ == "__main__":
    main()
