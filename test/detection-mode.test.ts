import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { Bus } from '../bus/bus.js';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { actorRegistry } from '../cli/registry.js';
import { DetectionFrame } from '../schemas/detections.js';
import { startTestNats, waitFor } from './helpers/nats.js';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { FramesetAssembler } from '../frames/frameset.js';
import { binToF32 } from '../bus/codec.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { parseScenario } from '../sim/scenario.js';
import { bandSensor, objectImage, pixelNoiseDn } from '../sim/sensor.js';
import { Simulator } from '../sim/simulator.js';
import { detectionProbability, noiseFalseAlarmRate } from '../sim/detection-mode.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** One mono camera staring at one hovering drone at `range` metres. */
function staring(range: number, extra: Record<string, unknown> = {}) {
  return parseScenario({
    name: 'stare',
    seed: 3,
    duration_s: 400,
    fps: 10,
    mode: 'detections',
    site: { lat: 0, lon: 0, alt: 0 },
    cameras: [{ id: 'c', pair: 'p', band: 'mono', resolution: [640, 480], fov_deg: 20, position: [0, 0, 0], look_at: [0, 1000, 0], ...extra }],
    targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, 3.3, range, 2.1]] }],
  });
}

/** The range at which the drone's peak SNR equals `snr` (bisection on the shared model). */
function rangeForSnr(snr: number): number {
  const scenario = staring(1000);
  const sensor = bandSensor(scenario, 'mono');
  const f = new Simulator(scenario, 0n).cameras[0]!.model.fx;
  let [lo, hi] = [10, 100_000];
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    const peakSnr = Math.abs(objectImage('drone', 'mono', sensor, 0.5, mid, f).peak) / pixelNoiseDn(sensor);
    if (peakSnr > snr) lo = mid;
    else hi = mid;
  }
  return lo;
}

describe('detection mode', () => {
  it('centroid errors follow the covariance it reports', () => {
    const range = rangeForSnr(12);
    const sim = new Simulator(staring(range), 0n);
    const cam = sim.cameras[0]!;
    const truthUv = cam.model.project([3.3, range, 2.1])!;
    const zs: number[] = [];
    for (let k = 0; k < sim.frameCount; k++) {
      const out = sim.detections(cam, k)!;
      const blobs = binToF32(out.frame.blobs);
      const i = out.sources.indexOf('d');
      if (i < 0) continue;
      const [x, y, vx, vy] = [blobs[i * BLOB_STRIDE]!, blobs[i * BLOB_STRIDE + 1]!, blobs[i * BLOB_STRIDE + 2]!, blobs[i * BLOB_STRIDE + 3]!];
      zs.push((x - truthUv[0]) / Math.sqrt(vx), (y - truthUv[1]) / Math.sqrt(vy));
    }
    assert.ok(zs.length > 3000);
    const mean = zs.reduce((a, b) => a + b, 0) / zs.length;
    const variance = zs.reduce((a, b) => a + (b - mean) ** 2, 0) / zs.length;
    assert.ok(Math.abs(mean) < 0.1, `normalised error mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.12, `normalised error variance ${variance}`);
  });

  it('detects with the probability its SNR and threshold imply, falling with range', () => {
    const range = rangeForSnr(5.2);
    const scenario = staring(range);
    const sim = new Simulator(scenario, 0n);
    const cam = sim.cameras[0]!;
    const sensor = bandSensor(scenario, 'mono');
    const img = objectImage('drone', 'mono', sensor, 0.5, Math.hypot(3.3, range, 2.1), cam.model.fx);
    const pd = detectionProbability(cam, sensor, 'drone', img, cam.model.project([3.3, range, 2.1])!);
    assert.ok(pd > 0.05 && pd < 0.95, `pick a range where detection is uncertain (pd=${pd})`);
    let hits = 0;
    for (let k = 0; k < sim.frameCount; k++) if (sim.detections(cam, k)!.sources.includes('d')) hits++;
    const sd = Math.sqrt((pd * (1 - pd)) / sim.frameCount);
    assert.ok(Math.abs(hits / sim.frameCount - pd) < 4 * sd, `detected ${hits}/${sim.frameCount}, expected ${pd}`);
    const near = new Simulator(staring(rangeForSnr(7)), 0n);
    let nearHits = 0;
    for (let k = 0; k < 200; k++) if (near.detections(near.cameras[0]!, k)!.sources.includes('d')) nearHits++;
    assert.ok(nearHits / 200 > hits / sim.frameCount);
  });

  it('raises noise false alarms at the threshold tail rate, and drops frames at drop_rate', () => {
    const sim = new Simulator(staring(100_000, { drop_rate: 0.1, resolution: [4096, 3000] }), 0n);
    const cam = sim.cameras[0]!;
    let frames = 0;
    let alarms = 0;
    for (let k = 0; k < sim.frameCount; k++) {
      const out = sim.detections(cam, k);
      if (!out) continue;
      frames++;
      alarms += out.sources.filter((s) => s === undefined).length;
    }
    const dropFrac = 1 - frames / sim.frameCount;
    assert.ok(Math.abs(dropFrac - 0.1) < 4 * Math.sqrt(0.09 / sim.frameCount), `dropped ${dropFrac}`);
    const expected = noiseFalseAlarmRate(cam, bandSensor(sim.scenario, 'mono'));
    assert.ok(expected > 0.05, `enough false alarms to test (${expected} per frame)`);
    const perFrame = alarms / frames;
    assert.ok(Math.abs(perFrame - expected) < 4 * Math.sqrt(expected / frames), `${perFrame} false alarms per frame, expected ${expected}`);
  });

  it('is deterministic for a seed', () => {
    const a = new Simulator(staring(900), 0n);
    const b = new Simulator(staring(900), 0n);
    for (let k = 0; k < 50; k++) assert.deepEqual(a.detections(a.cameras[0]!, k), b.detections(b.cameras[0]!, k));
  });

  it('stamps detections in site time, as behind synchronised cameras: a rig with a camera half a frame (17 ms) out of step is tracked as in step; stamped with its own clock, its views miss every instant and it is named', async () => {
    const raw = parseYaml(readFileSync(join(REPO, 'sim/scenarios/tri3.yaml'), 'utf8')) as { duration_s: number; cameras: { id: string; clock?: object }[] };
    raw.duration_s = 3;
    const inStep = parseScenario(structuredClone(raw));
    raw.cameras.find((c) => c.id === 't1-mono')!.clock = { offset_ms: 17, drift_ppm: 30, jitter_us: 0 };
    const skewed = parseScenario(raw);
    /** Confirmed tracks at the end, and the voxel-level framesets' verdict on the pairs' clocks. */
    const run = async (scenario: typeof skewed, synced: boolean) => {
      const sim = new Simulator(scenario, 1_000_000_000_000n);
      const pipeline = new OfflinePipeline(scenario);
      const sets = new FramesetAssembler<number>({ cameras: sim.cameras.filter((c) => c.band === 'mono').map((c) => c.id), toleranceNs: 10_000_000n, maxWaitMs: 80 });
      let last: { id: string; status: string }[] = [];
      for (let k = 0; k < sim.frameCount; k++) {
        for (const cam of sim.cameras) {
          const out = sim.detections(cam, k, undefined, synced)!;
          if (cam.band === 'mono') sets.add(cam.id, out.frame.t_ns, k, Number(out.frame.t_ns) / 1e6);
          for (const scan of await pipeline.push(out.frame)) last = scan.tracks.tracks;
        }
      }
      sets.flush();
      return { confirmed: last.filter((t) => t.status !== 'tentative').length, skewed: sets.skewed().map((c) => c.cam) };
    };
    const reference = await run(inStep, true);
    assert.ok(reference.confirmed >= 15, `tri3 in step: ${reference.confirmed} confirmed tracks`);
    assert.deepEqual(await run(skewed, true), reference, 'synchronised: as if in step');
    const own = await run(skewed, false);
    // Its views miss every instant and make instants of their own, of one pair each, which miss no track: the other pairs track on.
    assert.ok(own.confirmed < reference.confirmed && own.confirmed >= reference.confirmed / 2, `its own clock: ${own.confirmed} confirmed tracks of ${reference.confirmed}`);
    assert.deepEqual(own.skewed, ['t1-mono']);
  });
});

describe('the simulator actor on a starved event loop', function () {
  this.timeout(30_000);
  it('drops the frames two periods late, counted, as a camera would, instead of sending them late', async () => {
    const nats = await startTestNats();
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-starved-'));
    try {
      const fps = 50;
      const file = join(dir, 'stare.yaml');
      writeFileSync(file, toYaml({ name: 'stare', seed: 3, duration_s: 1.2, fps, mode: 'detections', site: { lat: 0, lon: 0, alt: 0 }, cameras: [{ id: 'c', pair: 'p', band: 'mono', resolution: [640, 480], fov_deg: 20, position: [0, 0, 0], look_at: [0, 1000, 0] }], targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, 0, 800, 0]] }] }));
      const frames = 1.2 * fps;
      const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
      const got: bigint[] = [];
      const sub = bus.subscribe(DetectionFrame, bus.subjects.det('c'), (f) => void got.push(f.t_ns));
      const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'sim-node', actors: [{ name: 'simulator', kind: 'simulator', restart: 'transient', options: { scenario: file } }] }), bus, registry: actorRegistry() });
      const simulator = () => node.list().find((a) => a.name === 'simulator');
      let dropped = 0;
      await node.start();
      try {
        await waitFor(() => got.length >= 10, 'the first frames', 10_000);
        // The process busy for 300 ms: fifteen frames fall due meanwhile.
        const until = performance.now() + 300;
        while (performance.now() < until);
        await waitFor(() => simulator()?.status !== 'running', 'the scenario played', 10_000);
        await waitFor(() => got.length + (simulator()?.stats?.dropped ?? 0) >= frames, 'every frame sent or dropped', 5000);
        dropped = simulator()?.stats?.dropped ?? 0;
      } finally {
        await node.stop();
        sub.unsubscribe();
      }
      assert.equal(got.length + dropped, frames, `${got.length} frames sent, ${dropped} dropped`);
      // All but the last two due while it was busy are dropped (more if the machine is slower still).
      assert.ok(dropped >= 10, `${dropped} frames dropped`);
      const period = BigInt(1e9 / fps);
      const gaps = got.slice(1).map((t, i) => (t - got[i]!) / period);
      assert.ok(gaps.some((g) => g >= 10n), `a gap where the frames were dropped: ${gaps.filter((g) => g > 1n).join(' ')}`);
    } finally {
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
