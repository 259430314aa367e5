/** The renderer's hand-off between geometry (sim/render.ts) and pixel loops (TypeScript or native). */

/**
 * Everything about one frame except its pixels: the sky's view-ray grid, clouds, the
 * Gaussian images of objects and glints, defects and the noise walk. Both pixel engines (sim/render.ts
 * and the native one) render from it; making it draws the frame's random numbers.
 */
export interface RenderPlan {
  width: number;
  height: number;
  bitDepth: number;
  skyDn: number;
  grid: number;
  /** (G+1)² up-components of view rays on a G×G grid over the image. */
  skyGrid: Float32Array;
  /** u, v, sigma, amplitude per cloud (px, px, px, DN). */
  clouds: Float64Array;
  /** u, v, sigma, flux per object then per glint (px, px, px, DN·px). */
  gaussians: Float64Array;
  hot: Int32Array;
  dead: Int32Array;
  readNoiseDn: number;
  gainEPerDn: number;
  /** Where this frame's two walks through the noise table start, and the second walk's length (see `quantize`). */
  noiseAt: number;
  noiseAt2: number;
  noiseWalk2: number;
}

