/**
 * Before a scenario run starts its clock, the stages this process will run (fusion, voxel,
 * tracker) and the wire codec work for a moment on the scenario's own synthetic detections,
 * and the output is thrown away. V8 compiles a function only after it has run a while, so
 * without this a large run's first second meets interpreted code: ring10's first scans came
 * out 0.3–0.5 s late while everything compiled at once.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decode, encode } from '../bus/codec.js';
import { OfflinePipeline, type OfflineOptions, type Relay } from '../actors/batch-worker/offline-pipeline.js';
import { validate } from '../schemas/message.js';
import { DetectionFrame } from '../schemas/detections.js';
import { Tracks } from '../schemas/tracks.js';
import { SimTruth } from '../schemas/truth.js';
import type { Scenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

/**
 * A message as a live stage receives it: encoded, decoded from a plain Uint8Array (as the NATS
 * client hands one over) and validated — a new object of the shapes V8 will meet live. Handed
 * over as it was sent, or decoded from the encoder's Buffer, the code would be compiled for
 * other shapes, and the first live messages would throw it away again ("wrong map") just when
 * the run starts: ring10's stages recompiled for a few hundred milliseconds of CPU then.
 */
const overTheWire: Relay = (type, value) => {
  const bytes = encode(value);
  return validate(type, decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
};

/**
 * Scans whose tracks the second round withholds from the voxel stage: a live cold start's first
 * scans come out a few frames late, and meanwhile the voxel stage takes the path that goes
 * without tracks.
 */
const LATE_SCANS = 3;

/**
 * Runs the pipeline on up to `seconds` of the scenario's detections, then once more from the
 * start on half as many with the first scans' tracks late, within `budgetMs` of wall time.
 * The second round is the live start again: empty skies, no tracks yet, the first births. Code
 * compiled over the first round's later scans meets those shapes and paths afresh, and V8 would
 * drop it again ("wrong map", "insufficient type feedback") in the live run's first second.
 * Then it waits, at most COMPILER_SETTLE_MAX_MS more, for the compiler to finish what the
 * rounds queued (`compilerSettled`).
 */
export async function warmUp(scenario: Scenario, options: OfflineOptions, seconds: number, budgetMs: number): Promise<{ frames: number; scans: number; ms: number; settle_ms: number }> {
  const start = performance.now();
  let [frames, scans] = [0, 0];
  for (const [share, late] of [[1, 0], [0.5, LATE_SCANS]] as const) {
    // Detection mode whatever the scenario's mode: the pixels' own path warms on its first frames.
    // Any time zero with room for the cameras' clock offsets before it.
    const sim = new Simulator({ ...scenario, mode: 'detections' }, 3_600_000_000_000n);
    const pipeline = new OfflinePipeline(sim.scenario, options, overTheWire, late);
    const count = Math.min(sim.frameCount, Math.ceil(share * seconds * scenario.fps));
    for (let k = 0; k < count && performance.now() - start < budgetMs; k++, frames++) {
      for (const cam of sim.cameras) {
        const out = sim.detections(cam, k);
        if (!out) continue;
        const det = overTheWire(DetectionFrame, out.frame);
        for (const scan of await pipeline.push(det)) {
          overTheWire(Tracks, scan.tracks);
          scans++;
        }
      }
    }
  }
  collectGarbage();
  const settle = await compilerSettled(COMPILER_SETTLE_MAX_MS);
  return { frames, scans, ms: performance.now() - start, settle_ms: Math.round(settle) };
}

/**
 * The sources' side of a cold start: a process that only plays the scenario (`--sources-only`)
 * makes up to `seconds` of its truth and detections as its simulator actor publishes them
 * (validated, encoded) and throws them away, within `budgetMs`; then waits for the compiler as
 * warmUp does. Cold, ring10's first frame took 34 ms and the next five 4–16 ms against 2–3
 * later — work that fell on the pipeline's busiest moment and made frame 0's detections
 * ≈ 30 ms late.
 */
export async function warmUpSources(scenario: Scenario, seconds: number, budgetMs: number): Promise<{ frames: number; ms: number; settle_ms: number }> {
  const start = performance.now();
  if (scenario.mode !== 'detections') return { frames: 0, ms: 0, settle_ms: 0 };
  const sim = new Simulator(scenario, 3_600_000_000_000n);
  const count = Math.min(sim.frameCount, Math.ceil(seconds * scenario.fps));
  let frames = 0;
  for (; frames < count && performance.now() - start < budgetMs; frames++) {
    encode(validate(SimTruth, sim.truth(frames)));
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, frames);
      if (out) encode(validate(DetectionFrame, out.frame));
    }
  }
  collectGarbage();
  const settle = await compilerSettled(COMPILER_SETTLE_MAX_MS);
  return { frames, ms: performance.now() - start, settle_ms: Math.round(settle) };
}

/**
 * A full collection now, before the clock starts: the rounds leave tens of megabytes of
 * garbage in the old generation, and the first major collection (its incremental marking
 * steps on the main thread) otherwise came within the live run's first second.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The longest the warm-up waits for the background compiler after its rounds (ms). */
const COMPILER_SETTLE_MAX_MS = 1500;
/** A sampling window of the process's CPU time while this thread sleeps (ms). */
const SETTLE_WINDOW_MS = 25;
/** Below this share of one core the process's other threads are taken to be idle. */
const SETTLE_IDLE_SHARE = 0.15;

/**
 * Waits (this thread idle) until the process's other threads — V8's compiler above all — have
 * gone quiet for two windows in a row, at most `maxMs`; returns how long it waited. The rounds'
 * last scans leave functions marked for optimization and compile jobs queued (one worker
 * thread); compiled now, they would otherwise compete with the live run's first frames.
 */
export async function compilerSettled(maxMs: number): Promise<number> {
  const start = performance.now();
  let quiet = 0;
  while (performance.now() - start < maxMs && quiet < 2) {
    const [cpu, t] = [process.cpuUsage(), performance.now()];
    await new Promise((r) => setTimeout(r, SETTLE_WINDOW_MS));
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / 1000 / (performance.now() - t);
    quiet = share < SETTLE_IDLE_SHARE ? quiet + 1 : 0;
  }
  return performance.now() - start;
}
