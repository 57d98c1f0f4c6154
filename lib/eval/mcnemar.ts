/** Exact McNemar test: do two classifiers, scored on the same images, differ in how often they are right? */
import { binomialHalfTwoSidedP } from './distributions';

/** The discordant counts and the exact two-sided p value. */
export interface McNemarTest {
  /** Images model A gets right and model B wrong. */
  b: number;
  /** Images model A gets wrong and model B right. */
  c: number;
  /** Exact two-sided binomial p of b among b + c discordant images under H0: p = ½; 1 when b + c = 0. */
  p: number;
}

/**
 * Exact McNemar test on paired correctness. Only discordant images carry information: under H0 (equal error
 * rates) each is equally likely to favour A or B, so b ~ Binomial(b + c, ½). The exact form suits the small
 * counts of a test set better than the χ² approximation.
 * @param correctA whether model A classified each image correctly
 * @param correctB the same for model B, image by image
 * @throws RangeError when the two arrays differ in length
 * @example mcnemarExact([true, true, true, true, true], [false, false, false, false, false]) // { b: 5, c: 0, p: 0.0625 }
 */
export function mcnemarExact(correctA: readonly boolean[], correctB: readonly boolean[]): McNemarTest {
  if (correctA.length !== correctB.length) throw new RangeError(`${correctA.length} results of model A but ${correctB.length} of model B`);
  let b = 0;
  let c = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] && !correctB[i]) b++;
    else if (!correctA[i] && correctB[i]) c++;
  }
  return { b, c, p: binomialHalfTwoSidedP(b, b + c) };
}
