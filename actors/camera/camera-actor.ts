/**
 * The camera actor: owns one camera's frame ring and its source. Sources:
 *   sim    — renders the scenario's view of this camera (pixel mode);
 *   frames — a directory of binary PGM files listed with their times in `timestamps.txt`;
 *   video  — frames written into the ring by a decoder actor (ffmpeg).
 * Each frame lands in a ring slot and a descriptor goes out on `skyvox.frame.<cam>`.
 * A source that ends finishes the actor normally; one that fails crashes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClockSync, exchange } from '../../bus/clock-sync.js';
import { FrameRing } from '../../frames/frame-ring.js';
import { closeRing, openRing } from '../../frames/registry.js';
import { FrameDescriptor } from '../../schemas/frame.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import { analysisGrid, onAnalysisGrid } from '../../frames/analysis-grid.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { bytesPerPixel, cameraScene, type PixelEngine, renderFrame, renderFrameWith } from '../../sim/render.js';
import { NativeRenderer, NativeUnavailableError } from '../../kernels/native.js';
import { Rng } from '../../sim/rng.js';
import { loadScenario } from '../../sim/scenario.js';
import { bandSensor } from '../../sim/sensor.js';
import { Simulator } from '../../sim/simulator.js';
import { parsePgm } from './pgm.js';

type Source = 'sim' | 'frames' | 'video';

interface Options {
  camera: string;
  source: Source;
  slots: number;
  scenario?: string;
  start_ns?: bigint;
  speed: number;
  /** Correct camera stamps to the site clock via `skyvox.clock` (sim source). */
  clockSync: boolean;
  /** Pixel engine of the sim source: native (default, when the addon loads) or typescript. */
  render: 'native' | 'typescript';
  dir?: string;
  width?: number;
  height?: number;
  /** Sim source: render only the frames the motion actors' analysis grid will pick. */
  analysisFps?: number;
}

function parseOptions(raw: Record<string, unknown>): Options {
  const fail = (field: string, expected: string): never => {
    throw new TypeError(`options.${field}: expected ${expected}, got ${JSON.stringify(raw[field])}`);
  };
  if (typeof raw.camera !== 'string') fail('camera', 'a camera id');
  const source = raw.source as Source;
  if (!['sim', 'frames', 'video'].includes(source)) fail('source', 'one of sim, frames, video');
  const slots = raw.slots ?? 8;
  if (!Number.isInteger(slots) || (slots as number) < 2) fail('slots', 'an integer ≥ 2');
  if (source === 'sim' && typeof raw.scenario !== 'string') fail('scenario', 'a scenario name or file');
  if (source === 'frames' && typeof raw.dir !== 'string') fail('dir', 'a directory of PGM frames');
  if (source === 'video' && !(Number.isInteger(raw.width) && Number.isInteger(raw.height))) fail('width', 'integer width and height of the decoded video');
  if (raw.render !== undefined && raw.render !== 'native' && raw.render !== 'typescript') fail('render', 'native or typescript');
  if (raw.analysis_fps !== undefined && !(typeof raw.analysis_fps === 'number' && raw.analysis_fps > 0)) fail('analysis_fps', 'frames analysed per second (> 0)');
  return {
    camera: raw.camera as string,
    source,
    slots: slots as number,
    scenario: raw.scenario as string | undefined,
    start_ns: raw.start_ns !== undefined ? BigInt(raw.start_ns as string) : undefined,
    speed: typeof raw.speed === 'number' ? raw.speed : 1,
    clockSync: raw.clock_sync !== false,
    render: raw.render === 'typescript' ? 'typescript' : 'native',
    dir: raw.dir as string | undefined,
    width: raw.width as number | undefined,
    height: raw.height as number | undefined,
    analysisFps: raw.analysis_fps as number | undefined,
  };
}

/** How far a simulated camera's site time may be from the one its frames are stamped with (ns). */
const GRID_SLACK_NS = 5_000_000n;

/** Writes a frame into the ring and announces it; counts what a full ring drops. */
async function deliver(ring: FrameRing, ctx: ActorContext<unknown>, cam: string, seq: number, tCam: bigint, sync: ClockSync | undefined, exposureUs: number, fill: (px: Uint8Array) => void | Promise<void>): Promise<void> {
  const before = ring.stats();
  const slot = ring.beginWrite();
  const after = ring.stats();
  ctx.stats.dropped += after.dropped - before.dropped + (after.full - before.full);
  if (slot === undefined) return;
  try {
    await fill(ring.pixels(slot));
  } catch (err) {
    ring.abort(slot);
    throw err;
  }
  ring.commit(slot, { seq, t_ns: tCam, exposure_us: exposureUs });
  const { width, height, bytesPerPixel: bpp } = ring.spec;
  const synced = sync?.synced ?? false;
  const t_ns = synced ? sync!.toSite(tCam) : tCam;
  ctx.publish(FrameDescriptor, ctx.bus!.subjects.frame(cam), { t_ns, cam, seq, slot, width, height, bytes_per_pixel: bpp, exposure_us: exposureUs, t_cam_ns: tCam, clock_synced: synced });
}

/** Exchanges with the site time server: eight quickly to converge, then one a second. */
function syncLoop(ctx: ActorContext<number>, sync: ClockSync, localNow: () => bigint): void {
  let n = 0;
  let warned = false;
  let timer: TimerHandle | undefined;
  ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
  const tick = () => {
    if (ctx.signal.aborted) return;
    exchange(ctx.bus!, sync, localNow)
      .catch((err: Error) => {
        if (!warned) ctx.log.warn({ err: err.message }, 'no site time server answered; frame times stay on the camera clock');
        warned = true;
      })
      .finally(() => {
        if (!ctx.signal.aborted) timer = ctx.clock.setTimeout(tick, ++n < 20 ? 50 : 1000);
      });
  };
  tick();
}

/** Factory for the `camera` actor kind. */
export function cameraActor(f: ActorFactoryContext): ActorBehavior<number> {
  const o = parseOptions(f.options);
  let ring: FrameRing | undefined;
  let timer: TimerHandle | undefined;
  let produce: (k: number, ctx: ActorContext<number>) => void | Promise<void> = () => {};
  let sync: ClockSync | undefined;

  const pace = (ctx: ActorContext<number>, count: number, startMs: number, periodMs: number) => {
    const next = (k: number) => {
      if (k >= count) {
        // Let the last frame be handled before ending.
        timer = ctx.clock.setTimeout(() => ctx.exit(), periodMs);
        return;
      }
      timer = ctx.clock.setTimeout(() => {
        ctx.send(k);
        next(k + 1);
      }, Math.max(0, startMs + k * periodMs - ctx.clock.now()));
    };
    next(0);
  };

  return {
    start(ctx) {
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
      if (o.source === 'sim') {
        const scenario = loadScenario(o.scenario!);
        const startNs = o.start_ns ?? BigInt(ctx.clock.now()) * 1_000_000n;
        const sim = new Simulator(scenario, startNs);
        const cam = sim.cameras.find((c) => c.id === o.camera);
        if (!cam) throw new TypeError(`options.camera: expected one of ${sim.cameras.map((c) => c.id).join(', ')}, got ${JSON.stringify(o.camera)}`);
        const sensor = bandSensor(scenario, cam.band);
        const clutter = scenario.clutter ?? {};
        const scene = cameraScene(cam, scenario.seed, {
          clouds: clutter.clouds?.count ?? 0,
          cloudContrast: clutter.clouds?.contrast ?? 0.08,
          cloudSpeedPxS: clutter.clouds?.speed_px_s ?? 3,
          hotPixels: clutter.hot_pixels ?? 0,
          deadPixels: clutter.dead_pixels ?? 0,
        });
        ring = openRing(o.camera, { slots: o.slots, width: cam.model.width, height: cam.model.height, bytesPerPixel: bytesPerPixel(sensor) });
        const exposureUs = Math.min(1e6 / scenario.fps, 2000);
        let engine: PixelEngine | undefined;
        if (o.render === 'native') {
          try {
            engine = new NativeRenderer(1);
          } catch (err) {
            if (!(err instanceof NativeUnavailableError)) throw err;
            ctx.log.warn({ reason: err.message }, 'native renderer unavailable; rendering in TypeScript (slow)');
          }
        }
        const grid = o.analysisFps !== undefined ? analysisGrid(o.analysisFps, scenario.fps, 'options.analysis_fps') : undefined;
        produce = (k, c) => {
          const t = sim.frameTime(k);
          // A frame no motion actor will analyse is not rendered. The site time is estimated
          // without the camera's clock error, so the window is widened to cover it.
          if (grid && !onAnalysisGrid(startNs + BigInt(Math.round(t * 1e9)), grid, GRID_SLACK_NS)) return;
          // One random stream per frame: a frame's bytes do not depend on which frames came before.
          const rng = Rng.derive(scenario.seed, `frame/${cam.id}/${k}`);
          if (cam.dropRate > 0 && rng.next() < cam.dropRate) return;
          const t_ns = sim.cameraNs(cam, t, rng);
          const input = { cam, sensor, scene, objects: sim.objects, t, rng, glintRateHz: clutter.glints?.rate_hz ?? 0, fps: scenario.fps };
          return deliver(ring!, c as ActorContext<unknown>, cam.id, k, t_ns, sync, exposureUs, (px) => (engine ? renderFrameWith(engine, input, px) : renderFrame(input, px)));
        };
        if (o.clockSync && cam.clock.synced) {
          // The simulated camera's own clock, as it would read now: offset and drift, no jitter.
          const camNow = () => {
            const site = nowNs();
            const t = Number(site - startNs) / 1e9;
            return site + BigInt(Math.round((cam.clock.offsetMs / 1e3 + cam.clock.driftPpm * 1e-6 * t) * 1e9));
          };
          sync = new ClockSync();
          syncLoop(ctx, sync, camNow);
        }
        pace(ctx, sim.frameCount, Number(startNs / 1_000_000n), 1000 / scenario.fps / o.speed);
      } else if (o.source === 'frames') {
        const list = readFileSync(join(o.dir!, 'timestamps.txt'), 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'))
          .map((l, i) => {
            const [file, t] = l.split(/\s+/);
            if (!file || !t || !/^\d+$/.test(t)) throw new TypeError(`${join(o.dir!, 'timestamps.txt')}: line ${i + 1}: expected "<file> <t_ns>", got ${JSON.stringify(l)}`);
            return { file, t_ns: BigInt(t) };
          });
        if (list.length === 0) throw new TypeError(`${join(o.dir!, 'timestamps.txt')}: expected at least one frame`);
        const first = parsePgm(readFileSync(join(o.dir!, list[0]!.file)), list[0]!.file);
        ring = openRing(o.camera, { slots: o.slots, width: first.width, height: first.height, bytesPerPixel: first.bytesPerPixel });
        produce = (k, c) => {
          const entry = list[k]!;
          const img = parsePgm(readFileSync(join(o.dir!, entry.file)), entry.file);
          if (img.width !== first.width || img.height !== first.height || img.bytesPerPixel !== first.bytesPerPixel) {
            throw new TypeError(`${entry.file}: expected ${first.width}×${first.height} at ${first.bytesPerPixel} byte(s) per pixel like the first frame, got ${img.width}×${img.height} at ${img.bytesPerPixel}`);
          }
          return deliver(ring!, c as ActorContext<unknown>, o.camera, k, entry.t_ns, undefined, 0, (px) => px.set(img.pixels));
        };
        // Replayed with the recorded spacing, scaled by speed.
        const t0 = list[0]!.t_ns;
        const startMs = ctx.clock.now();
        let k = 0;
        const next = () => {
          if (k >= list.length) {
            timer = ctx.clock.setTimeout(() => ctx.exit(), 10);
            return;
          }
          const dueMs = startMs + Number(list[k]!.t_ns - t0) / 1e6 / o.speed;
          timer = ctx.clock.setTimeout(() => {
            ctx.send(k++);
            next();
          }, Math.max(0, dueMs - ctx.clock.now()));
        };
        next();
      } else {
        // A decoder actor fills this ring; the camera only owns it.
        ring = openRing(o.camera, { slots: o.slots, width: o.width!, height: o.height!, bytesPerPixel: 1 });
      }
    },
    handle(k, ctx) {
      return produce(k, ctx);
    },
    stop() {
      if (ring) closeRing(o.camera, ring);
    },
  };
}
