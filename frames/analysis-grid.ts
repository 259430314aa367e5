/**
 * Which frames to analyse when a machine cannot analyse them all: the frames nearest to the
 * instants of a grid on the site clock (every 1/analysis_fps s from the epoch). Synchronised
 * cameras then analyse the same instants — their views can be triangulated — where dropping
 * whatever frame arrives while busy would leave each camera with different instants.
 */

/** The analysis grid: its period and the cameras' frame period (ns). */
export interface AnalysisGrid {
  gridNs: bigint;
  frameNs: bigint;
}

/** The grid for analysing `analysisFps` of a camera's `fps` frames a second. */
export function analysisGrid(analysisFps: number, fps: number, field = 'analysis_fps'): AnalysisGrid {
  if (!(typeof fps === 'number' && Number.isFinite(fps) && fps > 0)) throw new TypeError(`fps: expected the cameras' frame rate (> 0), got ${JSON.stringify(fps)}`);
  if (!(typeof analysisFps === 'number' && Number.isFinite(analysisFps) && analysisFps > 0 && analysisFps <= fps)) throw new TypeError(`${field}: expected frames analysed per second, > 0 and at most the cameras' ${fps} fps, got ${JSON.stringify(analysisFps)}`);
  return { gridNs: BigInt(Math.round(1e9 / analysisFps)), frameNs: BigInt(Math.round(1e9 / fps)) };
}

/**
 * Whether the frame exposed at `tNs` (site clock) is the one nearest a grid instant: an instant
 * lies in [t − frame/2 − slack, t + frame/2 + slack). With no slack each instant picks one
 * frame of a camera; a slack admits neighbours too (a source that must not miss the frame its
 * consumer will pick, while its own clock estimate is off by up to the slack).
 */
export function onAnalysisGrid(tNs: bigint, g: AnalysisGrid, slackNs = 0n): boolean {
  const lo = tNs - g.frameNs / 2n - slackNs;
  const hi = tNs + g.frameNs - g.frameNs / 2n + slackNs; // exclusive; the two halves tile the line
  const floorDiv = (a: bigint) => (a >= 0n ? a / g.gridNs : -((-a + g.gridNs - 1n) / g.gridNs));
  // The first grid instant at or after lo is below hi.
  const first = floorDiv(lo - 1n) + 1n;
  return first * g.gridNs < hi;
}
