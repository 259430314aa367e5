/** Normal-distribution helpers for the detection model. */

/** erf with |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26). */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** Standard normal CDF. */
export const normalCdf = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));

/** Upper tail P(Z > x) of the standard normal, accurate far into the tail. */
export function normalTail(x: number): number {
  if (x < 3) return 1 - normalCdf(x);
  // Asymptotic series: φ(x)/x · (1 − 1/x² + 3/x⁴)
  const phi = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const x2 = x * x;
  return (phi / x) * (1 - 1 / x2 + 3 / (x2 * x2));
}
