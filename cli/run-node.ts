/** `skyvox up` (embedded NATS + one node) and `skyvox node` (join an existing NATS). */
import { REPLAYABLE, type ReplaySource, type StreamSource } from '../actors/replayer/replayer.js';
import { ensureDetectionArchive } from '../bus/detection-archive.js';
import { stringify as stringifyYaml } from 'yaml';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { scenarioScoring } from '../eval/observable.js';
import { warmUp, warmUpSources } from './warm-up.js';
import { reportSummary } from './eval.js';
import { DEFAULT_EVAL_OPTIONS, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { readJsonLines } from '../eval/read.js';
import { Bus } from '../bus/bus.js';
import { closeBus, connectBus, logConnectionEvents } from '../bus/connection.js';
import { readCredentials } from '../bus/credentials.js';
import { type NatsServerHandle, startNatsServer, writeRuntimeInfo } from '../bus/nats-server.js';
import { type ActorConfig, loadNodeConfig, parseNodeConfig, type NodeConfig } from '../actors/node-supervisor/config.js';
import { fusionActors, pipelineActors, voxelActors } from '../actors/node-supervisor/pipeline.js';
import { rigOf, rigPairs } from '../sim/rig.js';
import { loadScenario } from '../sim/scenario.js';
import { sceneObjects } from '../sim/trajectory.js';
import { stageOptions } from './stage-options.js';
import { nowNs } from '../supervisors/clock.js';
import { UsageError } from './errors.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import type { ActorView } from '../actors/node-supervisor/view.js';
import type { Logger } from '../supervisors/log.js';
import { actorRegistry } from './registry.js';
import { Shutdown } from './shutdown.js';
import { startStatusLine } from './status-line.js';
import { type SourcesPlacement, startSourcesProcess } from './sources-process.js';
import { defaultDataDir } from './nats-target.js';

export interface RunNodeOptions {
  embedded: boolean;
  nats?: string;
  natsPort?: number;
  wsPort?: number;
  dataDir?: string;
  name?: string;
  config?: string;
  prefix?: string;
  telemetryHz?: number;
  allowFaultInjection?: boolean;
  duration?: number;
  status?: boolean;
  scenario?: string;
  record?: string;
  /** Write `skyvox eval`'s report of this run here at the end (records to --record or a temp dir). */
  report?: string;
  recordDetections?: boolean;
  /** Write each of this node's actors' counters here at the end (default with --record: DIR/actors.json). */
  actorTotals?: string;
  /** Record every camera's frames losslessly (pixel mode) for `skyvox process`. */
  recordVideo?: boolean;
  /** Pixel mode: frames analysed per second per camera, on a grid shared by all cameras (frames/analysis-grid.ts). */
  analysisFps?: number;
  /** Batch workers this node runs (takes `skyvox process` tasks). */
  batchWorkers?: number;
  speed?: number;
  /** Replays a recording through the pipeline instead of simulating (`skyvox replay`). */
  replay?: { dir: string; from: ReplaySource; stream?: StreamSource };
  /** Keep every camera's detections in JetStream (config `archive_detections` with its defaults). */
  archiveDetections?: boolean;
  /** Voxel actors, each owning a slab of the airspace (default 1). */
  voxelShards?: number;
  /** Seconds of the scenario's synthetic detections to run the local stages on before its clock starts (cli/warm-up.ts). */
  warmUp?: number;
  /** Run only the scenario's sources (simulator, cameras, motion) and recorder: a cluster places the rest. */
  sourcesOnly?: boolean;
  /** Where the scenario's sources play (default: a process of their own in detection mode, this one in pixel mode). */
  sources?: SourcesPlacement;
  /** A stage settings file: motion, fusion, voxel and tracker options (cli/stage-options.ts). */
  options?: string;
}

const defaultNodeName = () => hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'local';

/**
 * How long the sources get to start before scenario time zero. They start after the stages,
 * so the first frames meet running stages rather than queue behind their start-up; the scene
 * itself is built beforehand (sim/trajectory.ts keeps it), so this only covers the actors'
 * own start.
 */
const SOURCES_LEAD_NS = 250_000_000n;

/** A scenario run's actors: the stages start with the node, the sources once the stages are up. */
interface ScenarioPlan {
  stages: ActorConfig[];
  /** The sources (simulator, simulated cameras), all sharing scenario time zero `start_ns`. */
  sources: (start_ns: string) => ActorConfig[];
}

/** Where a scenario run's sources play: a run of its own sources puts them in a process of their own, except in pixel mode. */
function sourcesPlacement(o: RunNodeOptions): SourcesPlacement {
  if (!o.scenario || o.replay || o.sourcesOnly) return 'inline';
  return o.sources ?? (loadScenario(o.scenario).mode === 'pixel' ? 'inline' : 'process');
}

/** The actors a scenario run adds: a recorder first (so it sees the first frame), the stages, then the sources. */
function scenarioPlan(o: RunNodeOptions): ScenarioPlan {
  if (!o.scenario) return { stages: [], sources: () => [] };
  const scenario = loadScenario(o.scenario);
  const speed = o.speed ?? 1;
  const stage = stageOptions(o.options);
  const actors: ActorConfig[] = [];
  if (o.record) {
    const streams = [
      { subject: 'sim.truth', type: 'SimTruth', file: 'truth.jsonl' },
      { subject: 'tracks', type: 'Tracks', file: 'tracks.jsonl' },
      { subject: 'track.events', type: 'TrackEvent', file: 'events.jsonl' },
    ];
    if (o.recordDetections) {
      streams.push({ subject: 'det.>', type: 'DetectionFrame', file: 'detections.jsonl' });
      streams.push({ subject: 'fused.>', type: 'FusedFrame', file: 'fused.jsonl' });
      streams.push({ subject: 'meas', type: 'Measurements', file: 'meas.jsonl' });
      // Voxel shards' parts go in the same file: replayed, the tracker gathers them again.
      streams.push({ subject: 'meas.shard.*', type: 'Measurements', file: 'meas.jsonl' });
    }
    actors.push({ name: 'recorder', kind: 'recorder', restart: 'permanent', mailbox: { capacity: 65536, overflow: 'reject' }, options: { dir: resolve(o.record), streams } });
  }
  if (o.replay) {
    // The recorded stream enters where it was recorded; the stages after it run live.
    const from = o.replay.from;
    if (from === 'det') actors.push(...fusionActors(scenario, o.scenario!, stage.fusion));
    // A replay's stages start clean, as the live run's did, and leave its archive and checkpoints alone.
    if (from !== 'meas') actors.push(...voxelActors(o.scenario!, o.voxelShards, { ...stage.voxel, checkpoint_ms: 0 }));
    actors.push({ name: 'tracker', kind: 'tracker', restart: 'permanent', options: { ...stage.tracker, scenario: o.scenario!, archive: false, checkpoint_ms: 0 } });
    const input = o.replay.stream ? { stream: o.replay.stream } : { file: join(o.replay.dir, REPLAYABLE[from].file) };
    actors.push({ name: 'replayer', kind: 'replayer', restart: 'transient', options: { ...input, source: from, speed } });
    return { stages: actors, sources: () => [] };
  }
  const pixel = scenario.mode === 'pixel';
  const grid = o.analysisFps !== undefined ? { analysis_fps: o.analysisFps, fps: scenario.fps } : {};
  if (pixel) {
    for (const cam of scenario.cameras) {
      // A small mailbox: a frame not processed in time is dropped (and counted), not queued.
      // With --record-video it also records the frames it analyses: the video is then exactly its input.
      const video = o.recordVideo ? { record_video: join(resolve(o.record!), 'video') } : {};
      actors.push({ name: `motion-${cam.id}`, kind: 'motion', restart: 'permanent', mailbox: { capacity: 2, overflow: 'drop-oldest' }, options: { camera: cam.id, ...video, ...grid, ...(stage.motion ? { params: stage.motion } : {}), ...(cam.mask === undefined ? {} : { mask: cam.mask }) } });
    }
  }
  // On a cluster the placed actors do the rest (cluster.pipeline).
  // The run's tracker and voxel stage continue only this run's checkpoints (after a crash), never a previous run's.
  const session = String(nowNs());
  if (!o.sourcesOnly) actors.push(...pipelineActors(scenario, { scenario: o.scenario, voxel_shards: o.voxelShards, ...stage, voxel: { ...stage.voxel, session }, tracker: { ...stage.tracker, session } }));
  const sources = (start_ns: string): ActorConfig[] => [
    // A camera does not wait for its renderer: a frame still waiting when two newer ones are due is dropped (and counted), as a real camera's would be, so exposure times keep to the wall clock.
    ...(pixel ? scenario.cameras.map((cam): ActorConfig => ({ name: `camera-${cam.id}`, kind: 'camera', restart: 'transient', mailbox: { capacity: 2, overflow: 'drop-oldest' }, options: { camera: cam.id, source: 'sim', scenario: o.scenario, start_ns, speed, ...grid } })) : []),
    { name: 'simulator', kind: 'simulator', restart: 'transient', options: { scenario: o.scenario, speed, start_ns } },
  ];
  return { stages: actors, sources };
}

/**
 * Pixel mode without an analysis grid: once cameras or motion actors drop frames, say that
 * each camera now analyses different instants, which cannot be triangulated, and what helps.
 */
function watchFrameDrops(node: NodeSupervisor, log: Logger, shutdown: Shutdown): void {
  const timer = setInterval(() => {
    const dropped = node.list().filter((a) => a.kind === 'camera' || a.kind === 'motion').reduce((n, a) => n + (a.stats?.dropped ?? 0), 0);
    if (dropped === 0) return;
    clearInterval(timer);
    log.warn({ dropped }, 'frames dropped: this machine cannot analyse every frame, so cameras now analyse different instants, which cannot be triangulated; --analysis-fps N has every camera analyse the same N instants a second');
  }, 2000);
  timer.unref();
  shutdown.add('frame-drop watch', () => clearInterval(timer));
}

/**
 * Each actor's counters at the end of a run, as `actors.json` beside its records; `also` is the
 * sources process's own totals file, whose actors join the list (and which is then removed).
 */
function writeActorTotals(file: string, actors: ActorView[], also?: string): void {
  const totals: unknown[] = actors.map((a) => ({ name: a.name, kind: a.kind, restarts: a.restarts, msgs_in: a.stats?.msgsIn ?? 0, msgs_out: a.stats?.msgsOut ?? 0, dropped: a.stats?.dropped ?? 0, invalid: a.stats?.invalid ?? 0, errors: a.stats?.errors ?? 0 }));
  if (also && existsSync(also)) {
    totals.push(...(JSON.parse(readFileSync(also, 'utf8')) as unknown[]));
    rmSync(also);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(totals, null, 2)}\n`);
}

/** The embedded site also serves the site clock; a node joining a cluster does not. */
function siteActors(o: RunNodeOptions): ActorConfig[] {
  return o.embedded && !o.nats ? [{ name: 'clock-server', kind: 'clock-server', restart: 'permanent' }] : [];
}

/** The node's configuration, and the sources to add once it is up (validated with it). */
function nodePlan(o: RunNodeOptions): { config: NodeConfig; sources: (start_ns: string) => ActorConfig[] } {
  const overrides: Record<string, unknown> = {};
  if (o.name !== undefined) overrides.name = o.name;
  if (o.prefix !== undefined) overrides.prefix = o.prefix;
  if (o.allowFaultInjection) overrides.allow_fault_injection = true;
  if (o.telemetryHz !== undefined) overrides.telemetry = { rate_hz: o.telemetryHz };
  if (o.archiveDetections) overrides.archive_detections = {};
  const base = o.config ? loadNodeConfig(o.config, overrides) : parseNodeConfig({ name: defaultNodeName(), ...overrides }, 'command line');
  const workers = Array.from({ length: o.batchWorkers ?? 0 }, (_, i) => ({ name: `batch-${i + 1}`, kind: 'batch-worker', restart: 'permanent' as const }));
  const plan = scenarioPlan(o);
  const extra = [...siteActors(o), ...plan.stages, ...workers];
  const withActors = (more: ActorConfig[]) => (extra.length + more.length ? parseNodeConfig({ ...base, actors: [...base.actors, ...extra, ...more] }, o.config ?? 'command line') : base);
  // Parsed whole, so a source's name or options are refused before anything starts.
  const sources = (start_ns: string) => {
    const more = plan.sources(start_ns);
    return more.length ? withActors(more).actors.slice(-more.length) : [];
  };
  sources('0');
  return { config: withActors([]), sources };
}

/** Runs a node until a signal, a `stop` request or --duration; returns the exit code. */
export async function runNode(o: RunNodeOptions, log: Logger): Promise<number> {
  if (o.replay?.stream) {
    if (!o.scenario) throw new UsageError('replay stream: the rig is needed: --scenario S');
    if (o.report) throw new UsageError('replay stream: --report needs a recording\'s truth; record the replay with --record and score it with `skyvox eval`');
  } else if (o.replay) {
    const file = join(o.replay.dir, REPLAYABLE[o.replay.from].file);
    if (!existsSync(file)) throw new UsageError(`replay: ${file} does not exist (record with \`skyvox up --scenario S --record DIR --record-detections\`)`);
    o = { ...o, scenario: o.scenario ?? join(o.replay.dir, 'scenario.yaml') };
    if (!existsSync(o.scenario!)) throw new UsageError(`replay: the rig is needed: --scenario S, or ${o.scenario} written by --record`);
  }
  if (o.scenario) {
    // Validate before anything starts, so a bad scenario is one clear line and exit code 2.
    const scenario = loadScenario(o.scenario);
    const pairs = rigPairs(rigOf(scenario)).length;
    if (pairs < 2) log.warn({ pairs }, 'the scenario has one camera pair: a 3D position needs two, so no track will come');
    // A replay ends when its recording does.
    o = { ...o, duration: o.duration ?? (o.replay ? undefined : scenario.duration_s / (o.speed ?? 1) + 1) };
  }
  if (o.recordVideo && !o.record) throw new UsageError('--record-video needs --record DIR');
  if (o.sources !== undefined && (o.sourcesOnly || o.replay || !o.scenario)) throw new UsageError('--sources: only a scenario run that plays its own sources places them (not --sources-only, not a replay)');
  if (o.sources === 'process' && loadScenario(o.scenario!).mode === 'pixel') throw new UsageError('--sources process: in pixel mode the cameras hand their frames to the motion actors in shared memory, within one process; use --sources inline');
  if (o.sourcesOnly && !o.scenario) throw new UsageError('--sources-only needs --scenario S (the sources it plays)');
  if (o.sourcesOnly && o.voxelShards !== undefined) throw new UsageError('--voxel-shards: with --sources-only the cluster places the voxel actors (cluster.pipeline.voxel_shards)');
  if (o.recordVideo && o.scenario && loadScenario(o.scenario).mode !== 'pixel') throw new UsageError('--record-video needs a pixel-mode scenario (detection mode renders no frames)');
  if (o.analysisFps !== undefined) {
    const s = o.scenario ? loadScenario(o.scenario) : undefined;
    if (!s || s.mode !== 'pixel') throw new UsageError('--analysis-fps needs a pixel-mode scenario (detection mode analyses no frames)');
    if (o.analysisFps > s.fps) throw new UsageError(`--analysis-fps: expected at most the cameras' ${s.fps} fps, got ${o.analysisFps}`);
  }
  if (o.record && !o.scenario) throw new UsageError('--record needs --scenario (it records the simulator\'s truth)');
  if (o.report && !o.scenario) throw new UsageError('--report needs --scenario (it scores tracks against the simulator\'s truth)');
  let scratch: string | undefined;
  if (o.report && !o.record) {
    scratch = mkdtempSync(join(tmpdir(), 'skyvox-report-'));
    o = { ...o, record: scratch };
  }
  if (o.scenario && !o.replay && (o.warmUp ?? 0) > 0) {
    if (o.sourcesOnly) {
      const w = await warmUpSources(loadScenario(o.scenario), o.warmUp!, 1000 * o.warmUp!);
      log.info({ ...w, ms: Math.round(w.ms) }, 'sources warmed up');
    } else {
      const w = await warmUp(loadScenario(o.scenario), stageOptions(o.options), o.warmUp!, 3000 * o.warmUp!);
      log.info({ ...w, ms: Math.round(w.ms) }, 'stages warmed up');
    }
  }
  const { config, sources } = nodePlan(o);
  const dataDir = o.dataDir ?? defaultDataDir();
  const shutdown = new Shutdown(log);
  let exitCode = 0;
  try {
    let server: NatsServerHandle | undefined;
    let servers: string[];
    let pass: string;
    if (o.embedded && !o.nats) {
      // A replay's server is private and throwaway: it must not share a store with the site's.
      const serverDir = o.replay ? mkdtempSync(join(tmpdir(), 'skyvox-replay-')) : dataDir;
      if (o.replay) shutdown.add('replay store', () => rmSync(serverDir, { recursive: true, force: true }));
      server = await startNatsServer({ dataDir: serverDir, port: o.natsPort, strictPort: o.natsPort !== undefined, wsPort: o.wsPort, prefix: config.prefix });
      let serverStopping = false;
      shutdown.add('nats-server', () => {
        serverStopping = true;
        return server!.stop();
      });
      servers = [server.url];
      pass = server.credentials.node;
      log.info({ url: server.url, ws: server.wsUrl, natsPid: server.pid, dataDir }, 'nats-server ready');
      void server.exited.then(({ code, signal }) => {
        if (serverStopping) return;
        log.error({ code, signal }, 'nats-server exited');
        exitCode = 1;
        shutdown.request('nats-server exited');
      });
    } else {
      if (!o.nats) throw new Error('skyvox node needs --nats URL');
      servers = o.nats.split(',');
      pass = readCredentials(dataDir, 'node');
    }
    const nc = await connectBus({ servers, user: 'node', pass, name: `skyvox-node-${config.name}` });
    shutdown.add('nats connection', () => closeBus(nc));
    logConnectionEvents(nc, log);
    const bus = new Bus(nc, { prefix: config.prefix, receiver: config.name, log });
    if (config.archive_detections) {
      await ensureDetectionArchive(nc, bus.subjects, config.archive_detections);
      log.info({ ...config.archive_detections }, 'detections archived');
    }
    if (o.record && o.scenario) {
      // The rig travels with the recording, so `skyvox replay DIR` needs nothing else.
      mkdirSync(o.record, { recursive: true });
      writeFileSync(join(o.record, 'scenario.yaml'), stringifyYaml(loadScenario(o.scenario)));
    }
    const node = new NodeSupervisor({
      config,
      bus,
      registry: actorRegistry(),
      log,
      onEvent: (e) => {
        if (o.replay && e.type === 'exited' && e.child === 'replayer') setTimeout(() => shutdown.request('replay finished'), 1000).unref();
      },
      onStopRequested: (why) => {
        if (why === 'failed') exitCode = 1;
        shutdown.request(why === 'ctl' ? 'stop requested over ctl' : 'node supervisor failed');
      },
    });
    await node.start();
    // A recording says what each actor dropped, refused or restarted on the way: counted after
    // the actors stop (the counters outlive them), listed before (the list does not).
    let actors: ActorView[] = [];
    const totalsFile = o.actorTotals ?? (o.record ? join(o.record, 'actors.json') : undefined);
    const apart = o.scenario !== undefined && sourcesPlacement(o) === 'process';
    // The sources process writes its own actors' totals beside ours; they join ours at the end.
    const sourcesTotals = apart && totalsFile ? join(dirname(resolve(totalsFile)), `actors-${config.name}-sources.json`) : undefined;
    if (totalsFile) shutdown.add('actor totals', () => writeActorTotals(totalsFile, actors, sourcesTotals));
    shutdown.add('node supervisor', () => node.stop());
    if (totalsFile) shutdown.add('actor list', () => void (actors = node.list()));
    let src: Awaited<ReturnType<typeof startSourcesProcess>> | undefined;
    if (o.scenario && apart) {
      const started = await startSourcesProcess({ servers, pass, dataDir, name: `${config.name}-sources`, prefix: config.prefix, scenario: o.scenario, speed: o.speed ?? 1, duration: o.duration, warmUp: o.warmUp, actorTotals: sourcesTotals }, log);
      src = started;
      let stopping = false;
      shutdown.add('sources process', () => {
        stopping = true;
        return started.stop();
      });
      const pid = started.pid;
      void started.exited.then(({ code, signal }) => {
        if (stopping || code === 0) return;
        log.error({ code, signal, pid }, 'the sources process failed');
        exitCode = 1;
        shutdown.request('sources process failed');
      });
    } else if (o.scenario && !o.replay) {
      // Scenario time zero once the stages are up; the scene is built before it is chosen.
      sceneObjects(loadScenario(o.scenario));
      await node.startActors(sources(String(nowNs() + SOURCES_LEAD_NS)));
    }
    // A replay's private server is not the site: `tail` and `ctl` keep finding the site's.
    if (server && !o.replay) {
      const remove = writeRuntimeInfo(dataDir, { url: server.url, ws_url: server.wsUrl, pid: server.pid, prefix: config.prefix, node: config.name });
      shutdown.add('runtime file', remove);
    }
    // time_origin_ms: when this process started (epoch ms), so a V8 trace's times (ms since then) line up with the scans.
    log.info({ node: config.name, actors: node.list().length, ctl: bus.subjects.ctl(config.name), time_origin_ms: performance.timeOrigin }, 'node up');
    process.stdout.write(
      `skyvox: node ${config.name} up on ${servers.join(',')}${server ? ` (websocket ${server.wsUrl})` : ''}; ` +
        `telemetry on ${bus.subjects.telemetryAll} at ${config.telemetry.rate_hz} Hz; ` +
        (src ? `the scenario's sources play in node ${src.node} (pid ${src.pid}); ` : '') +
        'Ctrl-C stops\n',
    );
    if (o.scenario && !o.replay && o.analysisFps === undefined && loadScenario(o.scenario).mode === 'pixel') watchFrameDrops(node, log, shutdown);
    if (o.duration !== undefined) {
      const t = setTimeout(() => shutdown.request(`duration ${o.duration} s elapsed`), o.duration * 1000);
      t.unref();
    }
    const stopStatus = o.status && process.stdout.isTTY ? startStatusLine(node, bus) : undefined;
    const reason = await shutdown.requested;
    stopStatus?.();
    log.info({ reason }, 'shutting down');
  } catch (err) {
    exitCode = 1;
    throw err;
  } finally {
    await shutdown.run();
  }
  if (o.report) {
    // The recorder has closed its files: score the run as `skyvox eval` would.
    const dir = resolve(o.record!);
    // A replay is scored against the recording's truth; its latency is not the live one.
    const truthFile = join(o.replay ? o.replay.dir : dir, 'truth.jsonl');
    const scored = evaluate(readJsonLines<TruthScan>(truthFile), readJsonLines<TrackScan>(join(dir, 'tracks.jsonl')), { ...DEFAULT_EVAL_OPTIONS, ...scenarioScoring(loadScenario(o.scenario!)) });
    const report = { scenario: o.scenario, ...(o.replay ? { replay: o.replay } : {}), ...scored, ...(o.replay ? { latency_ms: null } : {}) };
    writeFileSync(o.report, `${JSON.stringify(report, null, 2)}\n`);
    log.info({ report: o.report }, 'report written');
    process.stdout.write(`skyvox: ${o.report}: ${reportSummary(scored, !o.replay)}\n`);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  return exitCode;
}
