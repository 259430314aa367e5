import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { Bus } from '../bus/bus.js';
import { encodePgm } from '../actors/camera/pgm.js';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { actorRegistry } from '../cli/registry.js';
import { findRing } from '../frames/registry.js';
import { FrameDescriptor } from '../schemas/frame.js';
import { BLOB_STRIDE, DetectionFrame } from '../schemas/detections.js';
import type { MessageOf } from '../schemas/message.js';
import { binToF32 } from '../bus/codec.js';
import { bandSensor } from '../sim/sensor.js';
import { cameraScene, renderFrame } from '../sim/render.js';
import { Rng } from '../sim/rng.js';
import { parseScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';
import { startTestNats, type TestNats, waitFor } from './helpers/nats.js';

type Descriptor = Static<typeof FrameDescriptor.schema>;

const tiny = {
  name: 'tiny',
  seed: 5,
  duration_s: 0.6,
  fps: 50,
  mode: 'pixel',
  site: { lat: 0, lon: 0, alt: 0 },
  cameras: [{ id: 'c1', pair: 'p', band: 'mono', resolution: [160, 120], fov_deg: 10, position: [0, 0, 0], look_at: [0, 500, 50], clock: { offset_ms: 3, drift_ppm: 0, jitter_us: 0 } }],
  targets: [{ id: 'd', kind: 'drone', size_m: 0.6, waypoints: [[0, 0, 500, 50], [1, 5, 500, 52]] }],
};

describe('camera pipeline', function () {
  this.timeout(30_000);
  let nats: TestNats;
  let dir: string;
  before(async () => {
    nats = await startTestNats();
    dir = mkdtempSync(join(tmpdir(), 'skyvox-cam-'));
  });
  after(async () => {
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a node with `actors` until `done` says so; returns the frame descriptors it saw, with a copy of each frame. */
  async function run(actors: object[], cam: string, done: (d: Descriptor[]) => boolean) {
    const seen: { d: Descriptor; pixels: Uint8Array }[] = [];
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const sub = bus.subscribe(FrameDescriptor, `skyvox.frame.${cam}`, (d) => {
      const ring = findRing(cam)!;
      if (ring.acquire(d.slot, d.seq)) {
        seen.push({ d, pixels: ring.pixels(d.slot).slice() });
        ring.release(d.slot);
      }
    });
    const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'cam-node', actors }), bus, registry: actorRegistry() });
    await node.start();
    try {
      await waitFor(() => done(seen.map((s) => s.d)), 'frames', 20_000);
    } finally {
      await node.stop();
      sub.unsubscribe();
    }
    return seen;
  }

  it('sim source: renders each frame into a ring slot, stamped by the camera clock, identical to the reference', async () => {
    const file = join(dir, 'tiny.yaml');
    writeFileSync(file, JSON.stringify(tiny));
    const start = BigInt(Date.now() + 300) * 1_000_000n;
    const frames = await run([{ name: 'cam', kind: 'camera', restart: 'transient', options: { camera: 'c1', source: 'sim', scenario: file, start_ns: String(start), render: 'typescript' } }], 'c1', (d) => d.length >= 30);
    assert.deepEqual(frames.map((f) => f.d.seq), [...Array(frames.length).keys()]);
    const scenario = parseScenario(tiny);
    const sim = new Simulator(scenario, start);
    const cam = sim.cameras[0]!;
    for (const f of frames) assert.equal(f.d.t_ns, start + BigInt(Math.round((f.d.seq / 50 + 0.003) * 1e9)), 'camera clock offset applied');
    const k = 17;
    const ref = new Uint8Array(160 * 120);
    renderFrame({ cam, sensor: bandSensor(scenario, 'mono'), scene: cameraScene(cam, 5, { clouds: 0, cloudContrast: 0, cloudSpeedPxS: 0, hotPixels: 0, deadPixels: 0 }), objects: sim.objects, t: k / 50, rng: (() => { const r = Rng.derive(5, `frame/c1/${k}`); r.normal(); return r; })(), glintRateHz: 0, fps: 50 }, ref);
    assert.deepEqual(frames[k]!.pixels, ref, 'the ring holds exactly the rendered frame');
  });

  it('clock sync: camera offsets, drift and jitter are recovered to within 0.5 ms of the site clock', async () => {
    const skewed = { ...tiny, duration_s: 3, cameras: [{ ...tiny.cameras[0], clock: { offset_ms: 7.3, drift_ppm: 40, jitter_us: 40 } }] };
    const file = join(dir, 'skewed.yaml');
    writeFileSync(file, JSON.stringify(skewed));
    const start = BigInt(Date.now() + 200) * 1_000_000n;
    const frames = await run(
      [
        { name: 'clock', kind: 'clock-server' },
        { name: 'cam', kind: 'camera', restart: 'transient', options: { camera: 'c1', source: 'sim', scenario: file, start_ns: String(start) } },
      ],
      'c1',
      (d) => d.length >= 110,
    );
    const truth = (seq: number) => start + BigInt(Math.round((seq / 50) * 1e9));
    const settled = frames.filter((f) => f.d.clock_synced && f.d.seq >= 60); // after the first second of exchanges
    assert.ok(settled.length >= 40, `${settled.length} synced frames`);
    const errorsMs = settled.map((f) => Number(f.d.t_ns - truth(f.d.seq)) / 1e6);
    const rawMs = settled.map((f) => Number(f.d.t_cam_ns - truth(f.d.seq)) / 1e6);
    assert.ok(rawMs.every((e) => e > 7), 'the raw camera stamps really are 7 ms off');
    const worst = Math.max(...errorsMs.map(Math.abs));
    assert.ok(worst < 0.5, `worst corrected error ${worst} ms`);
  });

  it('pixel mode end to end: camera frames through the motion kernel give the target where the camera model puts it', async () => {
    // The drone flies into view after the detector's warm-up, left to right.
    const big = { ...tiny, duration_s: 1, targets: [{ id: 'd', kind: 'drone', size_m: 2, waypoints: [[0, -60, 500, 50], [1, 20, 500, 52]] }] };
    const file = join(dir, 'big.yaml');
    writeFileSync(file, JSON.stringify(big));
    const start = BigInt(Date.now() + 300) * 1_000_000n;
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const dets: MessageOf<typeof DetectionFrame>[] = [];
    const sub = bus.subscribe(DetectionFrame, 'skyvox.det.c1', (d) => void dets.push(d));
    const node = new NodeSupervisor({
      config: parseNodeConfig({
        name: 'px',
        actors: [
          { name: 'cam', kind: 'camera', restart: 'transient', options: { camera: 'c1', source: 'sim', scenario: file, start_ns: String(start), clock_sync: false } },
          { name: 'motion', kind: 'motion', options: { camera: 'c1' } },
        ],
      }),
      bus,
      registry: actorRegistry(),
    });
    await node.start();
    try {
      await waitFor(() => dets.length >= 40, 'detections', 20_000);
    } finally {
      await node.stop();
      sub.unsubscribe();
    }
    const sim = new Simulator(parseScenario(big), start);
    const cam = sim.cameras[0]!;
    let hits = 0;
    let inView = 0;
    for (const d of dets) {
      const uv = cam.model.project(sim.objects[0]!.track.position(d.seq / 50))!;
      if (!cam.model.inImage(uv[0], uv[1], 5)) continue;
      inView++;
      const blobs = binToF32(d.blobs);
      for (let i = 0; i < d.count; i++) if (Math.hypot(blobs[i * BLOB_STRIDE]! - uv[0], blobs[i * BLOB_STRIDE + 1]! - uv[1]) < 0.5) hits++;
      assert.equal(d.t_ns, start + BigInt(Math.round((d.seq / 50 + 0.003) * 1e9)), 'the frame time carries through');
    }
    if (process.env.SKYVOX_DEBUG) for (const d of dets) { const uv = cam.model.project(sim.objects[0]!.track.position(d.seq / 50))!; const b = binToF32(d.blobs); console.log(d.seq, d.count, uv.map((v) => v.toFixed(2)).join(","), Array.from({ length: d.count }, (_, i) => `${b[i * 9]!.toFixed(2)},${b[i * 9 + 1]!.toFixed(2)} snr ${b[i * 9 + 7]!.toFixed(1)} area ${b[i * 9 + 6]}`).join(" | ")); }
    assert.ok(inView >= 15, `${inView} frames with the target in view`);
    assert.ok(hits >= inView - 1, `target found in ${hits} of ${inView} frames`);
  });

  it('with an analysis grid, synchronised cameras render and analyse the same instants only', async () => {
    // Two cameras whose clocks are 3 ms ahead and 2 ms behind, unsynchronised (stamps as they
    // are), 50 fps analysed at 10 fps: every fifth exposure on both, and nothing else rendered.
    const two = { ...tiny, duration_s: 1.6, cameras: [tiny.cameras[0]!, { ...tiny.cameras[0]!, id: 'c2', pair: 'q', position: [5, 0, 0], clock: { offset_ms: -2, drift_ppm: 0, jitter_us: 0 } }] };
    const file = join(dir, 'two.yaml');
    writeFileSync(file, JSON.stringify(two));
    // Time zero on a grid instant, so the instants are the exposures k = 0, 5, 10, …
    const start = (BigInt(Date.now() + 300) / 100n) * 100n * 1_000_000n;
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const frames: Descriptor[] = [];
    const dets: MessageOf<typeof DetectionFrame>[] = [];
    const subs = [bus.subscribe(FrameDescriptor, 'skyvox.frame.*', (d) => void frames.push(d)), bus.subscribe(DetectionFrame, 'skyvox.det.*', (d) => void dets.push(d))];
    const grid = { analysis_fps: 10 };
    const node = new NodeSupervisor({
      config: parseNodeConfig({
        name: 'grid',
        actors: ['c1', 'c2'].flatMap((c) => [
          { name: `cam-${c}`, kind: 'camera', restart: 'transient', options: { camera: c, source: 'sim', scenario: file, start_ns: String(start), clock_sync: false, ...grid } },
          { name: `motion-${c}`, kind: 'motion', options: { camera: c, ...grid, fps: 50, params: { warmupFrames: 2 } } },
        ]),
      }),
      bus,
      registry: actorRegistry(),
    });
    await node.start();
    try {
      await waitFor(() => frames.filter((d) => d.seq >= 75).length >= 2, 'the last grid frames', 20_000);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await node.stop();
      subs.forEach((s) => s.unsubscribe());
    }
    const seqs = (cam: string, list: { cam: string; seq: number }[]) => list.filter((d) => d.cam === cam).map((d) => d.seq).sort((a, b) => a - b);
    const grid5 = Array.from({ length: 16 }, (_, i) => 5 * i);
    assert.deepEqual(seqs('c1', frames), grid5, 'camera c1 rendered the grid frames only');
    assert.deepEqual(seqs('c2', frames), grid5, 'camera c2 rendered the grid frames only');
    // The kernel's first frame and two warm-up frames give no detections; the rest do, on both.
    assert.deepEqual(seqs('c1', dets), grid5.slice(3));
    assert.deepEqual(seqs('c2', dets), grid5.slice(3));
  });

  it('a failing video source crashes its decoder with ffmpeg\'s words, and the supervisor decides', async () => {
    const events: string[] = [];
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const node = new NodeSupervisor({
      config: parseNodeConfig({
        name: 'bad-video',
        supervision: { strategy: 'one_for_one', intensity: 1, period_ms: 60_000 },
        actors: [
          { name: 'cam', kind: 'camera', options: { camera: 'bad', source: 'video', width: 16, height: 16 } },
          { name: 'dec', kind: 'decoder', restart: 'transient', options: { camera: 'bad', input: join(dir, 'missing.mkv') } },
        ],
      }),
      bus,
      registry: actorRegistry(),
      onEvent: (e) => events.push(e.type === 'exited' && e.reason.kind === 'error' ? `${e.child}: ${e.reason.error.message}` : `${e.type}:${'child' in e ? e.child : ''}`),
    });
    await node.start();
    try {
      // transient + error → restarted once; the second failure exceeds intensity 1 and the tree gives up
      await waitFor(() => events.some((e) => e.startsWith('escalated')), 'the actors supervisor to give up', 15_000);
    } finally {
      await node.stop();
    }
    const failure = events.find((e) => e.startsWith('dec: ffmpeg exited'));
    assert.ok(failure, events.join('\n'));
    assert.match(failure, /missing\.mkv/);
    assert.match(failure, /No such file or directory/);
    assert.ok(events.filter((e) => e.startsWith('dec: ffmpeg exited')).length >= 2, 'restarted once before giving up');
  });

  it('frames source: PGM files replayed with their recorded timestamps', async () => {
    const fdir = join(dir, 'pgm');
    spawnSync('mkdir', ['-p', fdir]);
    const lines: string[] = [];
    for (let k = 0; k < 6; k++) {
      const px = Uint8Array.from({ length: 32 * 24 }, (_, i) => (i * 7 + k * 13) % 256);
      writeFileSync(join(fdir, `f${k}.pgm`), encodePgm(32, 24, px));
      lines.push(`f${k}.pgm ${1_700_000_000_000_000_000n + BigInt(k) * 33_333_333n}`);
    }
    writeFileSync(join(fdir, 'timestamps.txt'), `${lines.join('\n')}\n`);
    const frames = await run([{ name: 'cam', kind: 'camera', restart: 'transient', options: { camera: 'pgm', source: 'frames', dir: fdir } }], 'pgm', (d) => d.length >= 6);
    assert.deepEqual(frames.map((f) => f.d.t_ns), lines.map((l) => BigInt(l.split(' ')[1]!)));
    frames.forEach((f, k) => assert.deepEqual(f.pixels, Uint8Array.from({ length: 32 * 24 }, (_, i) => (i * 7 + k * 13) % 256)));
  });

  it('video source: a video made by ffmpeg from simulator frames decodes back with the same count, timestamps and pixels', async () => {
    // Simulator frames → PGM files → a lossless FFV1 video at 25 fps.
    const vdir = join(dir, 'video');
    spawnSync('mkdir', ['-p', vdir]);
    const scenario = parseScenario({ ...tiny, fps: 25, duration_s: 2 });
    const sim = new Simulator(scenario, 0n);
    const cam = sim.cameras[0]!;
    const sensor = bandSensor(scenario, 'mono');
    const scene = cameraScene(cam, 5, { clouds: 0, cloudContrast: 0, cloudSpeedPxS: 0, hotPixels: 0, deadPixels: 0 });
    const sources: Uint8Array[] = [];
    for (let k = 0; k < sim.frameCount; k++) {
      const px = new Uint8Array(160 * 120);
      renderFrame({ cam, sensor, scene, objects: sim.objects, t: k / 25, rng: new Rng(k), glintRateHz: 0, fps: 25 }, px);
      sources.push(px);
      writeFileSync(join(vdir, `${String(k).padStart(4, '0')}.pgm`), encodePgm(160, 120, px));
    }
    const video = join(vdir, 'sim.mkv');
    const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-framerate', '25', '-i', join(vdir, '%04d.pgm'), '-c:v', 'ffv1', '-pix_fmt', 'gray', video]);
    assert.equal(enc.status, 0, enc.stderr?.toString());
    const start = 1_800_000_000_000_000_000n;
    const frames = await run(
      [
        { name: 'cam', kind: 'camera', restart: 'transient', options: { camera: 'vid', source: 'video', width: 160, height: 120, slots: 64 } },
        { name: 'dec', kind: 'decoder', restart: 'transient', options: { camera: 'vid', input: video, start_ns: String(start) } },
      ],
      'vid',
      (d) => d.length >= sim.frameCount,
    );
    assert.equal(frames.length, sim.frameCount);
    assert.deepEqual(frames.map((f) => f.d.t_ns), frames.map((_, k) => start + BigInt(k) * 40_000_000n));
    frames.forEach((f, k) => assert.deepEqual(f.pixels, sources[k], `frame ${k} pixels`));
  });
});
