/**
 * A small depth-limited classification tree (Gini impurity, thresholds midway between sorted distinct values,
 * as CART / sklearn's `DecisionTreeClassifier`). Its few splits show which metadata feature separates the classes.
 */

/** A tree node: a leaf when `feature` is absent. */
export interface TreeNode {
  /** Training rows per class at this node. */
  counts: number[];
  /** Majority class (lowest index on ties). */
  prediction: number;
  feature?: number;
  /** Rows with `x[feature] <= threshold` go left. */
  threshold?: number;
  left?: TreeNode;
  right?: TreeNode;
}

/** Options of {@link fitTree}. */
export interface TreeOptions {
  /** Maximum depth (default 2). */
  maxDepth?: number;
  /** Minimum training rows in each child (default 1). */
  minSamplesLeaf?: number;
}

function gini(counts: readonly number[], n: number): number {
  if (n === 0) return 0;
  let s = 0;
  for (const c of counts) s += (c / n) * (c / n);
  return 1 - s;
}

function majority(counts: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
  return best;
}

/** Best split of `rows` over `features`: the largest impurity decrease, first feature and lowest threshold on ties. */
function bestSplit(
  X: readonly (readonly number[])[],
  y: readonly number[],
  rows: readonly number[],
  nClasses: number,
  features: readonly number[],
  minLeaf: number,
): { feature: number; threshold: number } | null {
  const n = rows.length;
  const total = new Array<number>(nClasses).fill(0);
  for (const r of rows) total[y[r]]++;
  const parent = gini(total, n);
  let best: { feature: number; threshold: number; score: number } | null = null;
  for (const f of features) {
    const sorted = [...rows].sort((a, b) => X[a][f] - X[b][f]);
    const left = new Array<number>(nClasses).fill(0);
    for (let i = 0; i < n - 1; i++) {
      left[y[sorted[i]]]++;
      const v = X[sorted[i]][f];
      const next = X[sorted[i + 1]][f];
      if (v === next || i + 1 < minLeaf || n - i - 1 < minLeaf) continue;
      const right = total.map((c, k) => c - left[k]);
      const children = ((i + 1) * gini(left, i + 1) + (n - i - 1) * gini(right, n - i - 1)) / n;
      const score = parent - children;
      // A split must reduce impurity by more than rounding noise to be worth showing.
      if (score > 1e-12 && (best === null || score > best.score + 1e-12)) {
        let threshold = v / 2 + next / 2;
        if (threshold === next) threshold = v;
        best = { feature: f, threshold, score };
      }
    }
  }
  return best && { feature: best.feature, threshold: best.threshold };
}

/** Fits a tree on rows `X` with labels in `0..nClasses-1`, optionally restricted to some feature columns. */
export function fitTree(
  X: readonly (readonly number[])[],
  y: readonly number[],
  nClasses: number,
  options: TreeOptions & { features?: readonly number[] } = {},
): TreeNode {
  if (X.length === 0) throw new RangeError('a tree needs at least one row');
  if (X.length !== y.length) throw new RangeError(`${X.length} rows but ${y.length} labels`);
  const maxDepth = options.maxDepth ?? 2;
  const minLeaf = options.minSamplesLeaf ?? 1;
  const features = options.features ?? X[0].map((_, j) => j);
  const grow = (rows: number[], depth: number): TreeNode => {
    const counts = new Array<number>(nClasses).fill(0);
    for (const r of rows) counts[y[r]]++;
    const node: TreeNode = { counts, prediction: majority(counts) };
    if (depth >= maxDepth || counts.filter((c) => c > 0).length < 2) return node;
    const split = bestSplit(X, y, rows, nClasses, features, minLeaf);
    if (!split) return node;
    node.feature = split.feature;
    node.threshold = split.threshold;
    node.left = grow(rows.filter((r) => X[r][split.feature] <= split.threshold), depth + 1);
    node.right = grow(rows.filter((r) => X[r][split.feature] > split.threshold), depth + 1);
    return node;
  };
  return grow(X.map((_, i) => i), 0);
}

/** Predicted class of one row. */
export function predictTree(tree: TreeNode, x: readonly number[]): number {
  let node = tree;
  while (node.feature !== undefined) node = x[node.feature] <= node.threshold! ? node.left! : node.right!;
  return node.prediction;
}

/** Readable lines, one per node, indented by depth: `width <= 1024 [covid 3, viral 40, normal 2]`. */
export function describeTree(
  tree: TreeNode,
  featureNames: readonly string[],
  classNames: readonly string[],
  formatValue: (feature: number, value: number) => string = (_f, v) => String(Number(v.toPrecision(6))),
): string[] {
  const lines: string[] = [];
  const counts = (n: TreeNode) => n.counts.map((c, k) => `${classNames[k]} ${c}`).join(', ');
  const walk = (node: TreeNode, depth: number, prefix: string) => {
    const pad = '  '.repeat(depth);
    if (node.feature === undefined) {
      lines.push(`${pad}${prefix}→ ${classNames[node.prediction]} [${counts(node)}]`);
      return;
    }
    const cond = `${featureNames[node.feature]} <= ${formatValue(node.feature, node.threshold!)}`;
    lines.push(`${pad}${prefix}[${counts(node)}]`);
    walk(node.left!, depth + 1, `if ${cond}: `);
    walk(node.right!, depth + 1, `else: `);
  };
  walk(tree, 0, '');
  return lines;
}
