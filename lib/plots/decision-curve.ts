/**
 * Decision-curve figure: net benefit of each model over threshold probabilities, with the "treat all" and
 * "treat none" references. Plain numbers in, plotly JSON out (the computation is lib/eval/decision-curve.ts).
 */
import type { Figure } from './figure';
import { lineChart, type LineSeries } from './lines';

/** Net benefit of one model at the figure's thresholds. */
export interface NetBenefitSeries {
  name: string;
  netBenefit: readonly number[];
}

/** Options of {@link decisionCurveFigure}. */
export interface DecisionCurveFigureOptions {
  title: string;
  /** Threshold probabilities (x axis), shared by every series. */
  thresholds: readonly number[];
  models: readonly NetBenefitSeries[];
  /** Net benefit of calling everyone positive. */
  treatAll: readonly number[];
  /** Share of positives: the highest net benefit possible, so the top of the y axis. */
  prevalence: number;
  width?: number;
  height?: number;
}

/**
 * Net benefit against threshold probability. The y axis stops a little below 0, because "treat all" falls
 * steeply at high thresholds and would otherwise flatten every curve that matters.
 * @throws RangeError when a series does not have one value per threshold
 * @example decisionCurveFigure({ title: 'Decision curve', thresholds: [0.1, 0.5], models: [{ name: 'A', netBenefit: [0.3, 0.2] }], treatAll: [0.28, -0.2], prevalence: 0.35 })
 */
export function decisionCurveFigure(o: DecisionCurveFigureOptions): Figure {
  const series: LineSeries[] = o.models.map((m) => ({ name: m.name, x: o.thresholds, y: m.netBenefit }));
  series.push(
    { name: 'treat all', x: o.thresholds, y: o.treatAll, colour: '#999999', dash: 'dash' },
    { name: 'treat none', x: o.thresholds, y: o.thresholds.map(() => 0), colour: '#555555', dash: 'dot' },
  );
  const fig = lineChart({
    title: o.title,
    panels: [{ title: o.title, series }],
    xTitle: 'threshold probability',
    yTitle: 'net benefit',
    width: o.width ?? 640,
    height: o.height ?? 460,
  });
  const top = Math.max(o.prevalence, ...o.models.flatMap((m) => m.netBenefit.filter(Number.isFinite)));
  const margin = Math.max(0.02, 0.1 * top);
  fig.layout.yaxis = { ...(fig.layout.yaxis as Record<string, unknown>), range: [-margin, top + margin] };
  return fig;
}
