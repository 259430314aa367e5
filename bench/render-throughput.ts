/**
 * Pixel-mode rendering throughput at 1080p, 4K and 8K, against two baselines measured in the
 * same run: a plain copy of a frame's bytes (memory speed) and the noiseless render (scene
 * only), so the cost of noise and quantisation is visible too.
 */
import { Camera, intrinsicsFromFov } from '../geometry/camera.js';
import { lookAt } from '../geometry/rotation.js';
import type { RigCamera } from '../sim/rig.js';
import { Rng } from '../sim/rng.js';
import { cameraScene, renderFrame, renderFrameWith, renderIdeal, type RenderInput } from '../sim/render.js';
import { NativeRenderer, nativeInfo } from '../kernels/native.js';
import { cpus } from 'node:os';
import { bandSensor } from '../sim/sensor.js';
import { loadScenario } from '../sim/scenario.js';
import { sceneObjects } from '../sim/trajectory.js';

const SIZES = [
  ['1080p', 1920, 1080],
  ['4K', 3840, 2160],
  ['8K', 7680, 4320],
] as const;

function timeIt(fn: () => void, minMs: number): number {
  fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 2) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

async function timeAsync(fn: () => Promise<unknown>, minMs: number): Promise<number> {
  await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 2) {
    await fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Renders the 8k scenario's objects through cameras of each size; returns a JSON-ready report. */
export async function renderThroughput(minMs: number): Promise<Record<string, unknown>> {
  const hasNative = nativeInfo().loaded;
  const scenario = loadScenario('8k');
  const objects = sceneObjects(scenario);
  const sensor = bandSensor(scenario, 'mono');
  const rows = [];
  for (const [name, w, h] of SIZES) {
    const cam: RigCamera = {
      id: name,
      pair: 'p',
      band: 'mono',
      model: Camera.at([-300, 0, 3], lookAt([-300, 0, 3], [0, 3000, 600]), { width: w, height: h, K: intrinsicsFromFov(w, h, 30) }),
      clock: { offsetMs: 0, driftPpm: 0, jitterUs: 0, synced: true },
      dropRate: 0,
    };
    const scene = cameraScene(cam, scenario.seed, { clouds: 3, cloudContrast: 0.06, cloudSpeedPxS: 8, hotPixels: 20, deadPixels: 20 });
    const input = (k: number): RenderInput => ({ cam, sensor, scene, objects, t: k * 0.033, rng: new Rng(k), glintRateHz: 0, fps: 30 });
    const out = new Uint8Array(w * h);
    const src = new Uint8Array(w * h).fill(7);
    let k = 0;
    const copyMs = timeIt(() => out.set(src), minMs);
    const idealMs = timeIt(() => renderIdeal(input(k++)), minMs);
    const fullMs = timeIt(() => renderFrame(input(k++), out), minMs);
    const mpx = (w * h) / 1e6;
    const native1 = hasNative ? await timeAsync(() => renderFrameWith(new NativeRenderer(1), input(k++), out), minMs) : undefined;
    const nativeAll = hasNative ? await timeAsync(() => renderFrameWith(new NativeRenderer(0), input(k++), out), minMs) : undefined;
    rows.push({
      size: name,
      width: w,
      height: h,
      render_ms: fullMs,
      render_mpx_s: mpx / (fullMs / 1000),
      noiseless_ms: idealMs,
      copy_ms: copyMs,
      ratio_render_to_copy: fullMs / copyMs,
      ratio_render_to_noiseless: fullMs / idealMs,
      frames_per_s: 1000 / fullMs,
      native_1thread_ms: native1,
      native_all_threads_ms: nativeAll,
      threads: cpus().length,
      ratio_typescript_to_native_all: nativeAll ? fullMs / nativeAll : undefined,
    });
  }
  return { bench: 'render', objects: objects.length, results: rows };
}
