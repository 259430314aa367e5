/**
 * `skyvox process DIR`: batch processing of a recording's videos. The job is split into tasks
 * on the work-queue stream — one motion task per camera (or per chunk of a camera's video with
 * --chunk-s), then one track task over all their detections — which whichever batch workers
 * are free take (this command's own, and every node started with --batch-workers). The result
 * is the tracks file a live run of the same frames gives.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { videoFiles } from '../frames/video-writer.js';
import { readFrameIndex } from '../actors/batch-worker/motion-task.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { closeBus, connectBus } from '../bus/connection.js';
import { readCredentials } from '../bus/credentials.js';
import { toJsonLine } from '../bus/json-lines.js';
import { startNatsServer } from '../bus/nats-server.js';
import { subjectsFor, type Subjects } from '../bus/subjects.js';
import { batchStreamName, ensureWorkQueue, maxDeliveriesAdvisory, type WorkQueueOptions } from '../bus/work-queue.js';
import { readStored } from '../bus/jetstream.js';
import { DEFAULT_EVAL_OPTIONS, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { scenarioScoring } from '../eval/observable.js';
import { readJsonLines } from '../eval/read.js';
import { motionParams } from '../kernels/motion-params.js';
import { stageOptions } from './stage-options.js';
import { BatchRecord, BatchTask } from '../schemas/batch.js';
import { type MessageOf, validate } from '../schemas/message.js';
import { TrackEvent, Tracks } from '../schemas/tracks.js';
import { DetectionFrame } from '../schemas/detections.js';
import { loadScenario, type Scenario } from '../sim/scenario.js';
import type { Logger } from '../supervisors/log.js';
import { UsageError } from './errors.js';
import { reportSummary } from './eval.js';
import { defaultDataDir } from './nats-target.js';
import { actorRegistry } from './registry.js';
import { Shutdown } from './shutdown.js';

export interface ProcessOptions {
  nats?: string;
  dataDir?: string;
  prefix?: string;
  out?: string;
  scenario?: string;
  workers?: number;
  chunkS?: number;
  warmupFrames?: number;
  ackWaitS?: number;
  maxDeliver?: number;
  replicas?: number;
  options?: string;
  report?: string;
  keep?: boolean;
}

type Task = MessageOf<typeof BatchTask>;
/** A task before the queue's settings are stamped on it. */
type Planned = Omit<Task, 'ack_wait_s' | 'max_deliver'>;
type Rec = MessageOf<typeof BatchRecord>;

/** The motion tasks of a recording: one per camera with a video, or per chunk of `chunkFrames`. */
export function planMotionTasks(job: string, dir: string, rig: Scenario, chunkFrames: number, warmup: number, options: Record<string, unknown>): { tasks: Planned[]; missing: string[] } {
  const tasks: Planned[] = [];
  const missing: string[] = [];
  for (const cam of rig.cameras) {
    const f = videoFiles(join(dir, 'video'), cam.id);
    if (!existsSync(f.video) || !existsSync(f.index)) {
      missing.push(cam.id);
      continue;
    }
    const frames = readFrameIndex(f.index).length;
    const step = chunkFrames > 0 ? chunkFrames : Math.max(1, frames);
    for (let from = 0, k = 0; from < frames; from += step, k++) {
      // The camera's detection mask travels as a path, like its video (shared storage).
      const own = cam.mask === undefined ? options : { ...options, mask: cam.mask };
      tasks.push({ job, task: `motion-${cam.id}-${k}`, kind: 'motion', cam: cam.id, video: resolve(f.video), index: resolve(f.index), from, to: Math.min(frames, from + step), warmup: from === 0 ? 0 : warmup, options: own });
    }
  }
  return { tasks, missing };
}

/** Follows a job's records (stored, so none is missed) and the server's max-deliveries advisories. */
class JobWatch {
  readonly records = new Map<string, Rec[]>();
  #waiters: (() => void)[] = [];
  #stop: (() => void)[] = [];
  readonly #bySeq = new Map<number, string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly s: Subjects,
    private readonly job: string,
    private readonly print: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(batchStreamName(this.s), { filter_subjects: this.s.batch.record(this.job), deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ expires: 5000 });
    this.#stop.push(() => void messages.stop());
    void (async () => {
      for await (const m of messages) this.#take(m);
    })().catch((err: Error) => this.print(`skyvox process: lost the job's records: ${err.message}`));
    // A task whose worker died on its last delivery never gets a `failed` record from a
    // worker; the server says so here, and the job writes it.
    const sub = this.nc.subscribe(maxDeliveriesAdvisory(this.s), {
      callback: (_err, msg) => {
        const a = JSON.parse(new TextDecoder().decode(msg.data)) as { stream_seq?: number; deliveries?: number };
        const task = this.#bySeq.get(a.stream_seq ?? -1);
        if (task && !this.finished(task)) void this.fail(task, `no worker finished it in ${a.deliveries} deliveries (each lost or stalled past ack_wait)`, a.deliveries ?? 0);
      },
    });
    this.#stop.push(() => sub.unsubscribe());
    await this.nc.flush();
  }

  /** The task was published at this stream sequence (for the advisories). */
  published(seq: number, task: string): void {
    this.#bySeq.set(seq, task);
  }

  async fail(task: string, reason: string, attempt: number): Promise<void> {
    const rec: Rec = { t_ns: BigInt(Date.now()) * 1_000_000n, job: this.job, task, event: 'failed', node: '', worker: 'job', attempt: Math.max(1, attempt), items: 0, ms: 0, reason };
    await jetstream(this.nc).publish(this.s.batch.record(this.job), encode(rec), { msgID: `${this.job}:${task}:failed:job` });
  }

  #take(m: JsMsg): void {
    let r: Rec;
    try {
      r = validate(BatchRecord, decode(m.data));
    } catch {
      return;
    }
    const list = this.records.get(r.task) ?? [];
    list.push(r);
    this.records.set(r.task, list);
    if (r.event === 'started') this.print(`${r.task}: started on ${r.node}/${r.worker} (attempt ${r.attempt})`);
    else if (r.event === 'done') this.print(`${r.task}: done on ${r.node}/${r.worker}: ${r.items} ${r.task.startsWith('track') ? 'scans' : 'frames'} in ${(r.ms / 1000).toFixed(1)} s`);
    else this.print(`${r.task}: FAILED: ${r.reason}`);
    for (const w of this.#waiters.splice(0)) w();
  }

  finished(task: string): 'done' | 'failed' | undefined {
    const rs = this.records.get(task) ?? [];
    return rs.some((r) => r.event === 'done') ? 'done' : rs.some((r) => r.event === 'failed') ? 'failed' : undefined;
  }

  /** Resolves once every task has a done or failed record. */
  async settled(tasks: string[], signal: AbortSignal, onWait?: () => void): Promise<void> {
    while (!tasks.every((t) => this.finished(t))) {
      if (signal.aborted) throw new Error('interrupted');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          onWait?.();
          r();
        }, 5000);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  stop(): void {
    for (const f of this.#stop.splice(0)) f();
  }
}

/** Runs a batch job to its end; returns the exit code (1 when a task failed). */
export async function processCommand(dirArg: string, o: ProcessOptions, log: Logger): Promise<number> {
  const dir = resolve(dirArg);
  const rigFile = o.scenario ?? join(dir, 'scenario.yaml');
  if (!o.scenario && !existsSync(rigFile)) throw new UsageError(`process: ${rigFile} does not exist: record with \`skyvox up --scenario S --record DIR --record-video\`, or give the rig with --scenario`);
  const rig = loadScenario(rigFile);
  const options = stageOptions(o.options);
  const motion = motionParams((options.motion ?? {}) as Record<string, unknown>);
  // Long enough for the background mean to settle (three time constants) past the kernel's own warm-up.
  const warmup = o.warmupFrames ?? motion.warmupFrames + Math.ceil(3 / motion.alpha);
  const job = `j${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const planned = planMotionTasks(job, dir, rig, o.chunkS ? Math.max(1, Math.round(o.chunkS * rig.fps)) : 0, warmup, options);
  if (planned.tasks.length === 0) throw new UsageError(`process: no camera of ${rigFile} has a video in ${join(dir, 'video')} (<camera>.mkv and <camera>.frames.txt)`);
  const out = resolve(o.out ?? join(dir, 'processed'));
  const dataDir = o.dataDir ?? defaultDataDir();
  const shutdown = new Shutdown(log);
  const abort = new AbortController();
  void shutdown.requested.then(() => abort.abort());
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let code = 0;
  try {
    let servers: string[];
    let pass: string;
    if (!o.nats) {
      const server = await startNatsServer({ dataDir, port: 0, prefix: o.prefix });
      shutdown.add('nats-server', () => server.stop());
      servers = [server.url];
      pass = server.credentials.node;
    } else {
      servers = o.nats.split(',');
      pass = readCredentials(dataDir, 'node');
    }
    const nc = await connectBus({ servers, user: 'node', pass, name: `skyvox-process-${job}` });
    shutdown.add('nats connection', () => closeBus(nc));
    const s = subjectsFor(o.prefix);
    const queue: Partial<WorkQueueOptions> = { ackWaitS: o.ackWaitS, maxDeliver: o.maxDeliver, replicas: o.replicas };
    for (const k of Object.keys(queue) as (keyof WorkQueueOptions)[]) if (queue[k] === undefined) delete queue[k];
    const wq = await ensureWorkQueue(nc, s, queue, 'impose');
    // Local workers: all of them without --nats (the embedded server has no others), else as asked.
    const workers = o.workers ?? (o.nats ? 0 : Math.max(1, Math.min(2, cpus().length)));
    if (workers > 0) {
      const bus = new Bus(nc, { prefix: s.prefix, receiver: `process-${job}`, log });
      const config = parseNodeConfig({ name: `process-${job}`, prefix: s.prefix, actors: Array.from({ length: workers }, (_, i) => ({ name: `worker-${i + 1}`, kind: 'batch-worker', restart: 'permanent' })) }, 'command line');
      const node = new NodeSupervisor({ config, bus, registry: actorRegistry(), log, onStopRequested: () => shutdown.request('workers failed') });
      await node.start();
      shutdown.add('batch workers', () => node.stop());
    }
    const watch = new JobWatch(nc, s, job, print);
    await watch.start();
    shutdown.add('job watch', () => watch.stop());
    const js = jetstream(nc);
    const submit = async (t: Planned) => {
      const task: Task = { ...t, ack_wait_s: wq.ackWaitS, max_deliver: wq.maxDeliver };
      const ack = await js.publish(s.work.task(job, t.task), encode(validate(BatchTask, task)), { msgID: `${job}:${t.task}` });
      watch.published(ack.seq, t.task);
    };
    print(`skyvox process: job ${job}: ${planned.tasks.length} motion task(s) for ${rig.cameras.length - planned.missing.length} camera(s); ack_wait ${wq.ackWaitS} s, at most ${wq.maxDeliver} deliveries; ${workers} local worker(s)`);
    if (planned.missing.length) print(`skyvox process: no video for ${planned.missing.join(', ')}: processed without them`);
    for (const t of planned.tasks) await submit(t);
    const noWorkers = () => {
      if (![...watch.records.values()].length) print('skyvox process: no worker has taken a task yet; start nodes with `skyvox node --nats URL --batch-workers N`');
    };
    await watch.settled(planned.tasks.map((t) => t.task), abort.signal, noWorkers);
    const failed = planned.tasks.filter((t) => watch.finished(t.task) === 'failed');
    let tracksWritten = 0;
    if (failed.length === 0) {
      const track: Planned = { job, task: 'track', kind: 'track', scenario: stringifyYaml(rig), options };
      await submit(track);
      await watch.settled(['track'], abort.signal, noWorkers);
      if (watch.finished('track') === 'done') tracksWritten = await writeOutputs(nc, s, job, rig, out, abort.signal);
      else failed.push(track);
    }
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'job.json'), `${JSON.stringify({ job, dir, tasks: Object.fromEntries([...watch.records].map(([k, v]) => [k, v.map((r) => ({ ...r, t_ns: String(r.t_ns) }))])), failed: failed.map((t) => t.task) }, null, 2)}\n`);
    if (failed.length) {
      print(`skyvox process: job ${job} FAILED: ${failed.map((t) => t.task).join(', ')} (see ${join(out, 'job.json')})`);
      code = 1;
    } else {
      print(`skyvox process: job ${job} done: ${tracksWritten} scans in ${join(out, 'tracks.jsonl')}`);
      if (o.report) {
        const truth = join(dir, 'truth.jsonl');
        if (!existsSync(truth)) throw new UsageError(`--report: ${truth} does not exist`);
        const scored = evaluate(readJsonLines<TruthScan>(truth), readJsonLines<TrackScan>(join(out, 'tracks.jsonl')), { ...DEFAULT_EVAL_OPTIONS, ...scenarioScoring(rig) });
        writeFileSync(o.report, `${JSON.stringify({ scenario: rigFile, job, ...scored, latency_ms: null }, null, 2)}\n`);
        print(`skyvox process: ${o.report}: ${reportSummary(scored, false)}`);
      }
    }
    if (!o.keep) {
      // The job's results are in the files now; its records and detections leave the stream.
      await (await jetstreamManager(nc)).streams.purge(batchStreamName(s), { filter: s.batch.job(job) }).catch((err: Error) => log.warn({ err: err.message }, 'process: results not purged'));
    }
  } catch (err) {
    if (abort.signal.aborted) {
      print('skyvox process: interrupted; unfinished tasks stay queued for other workers');
      code = 130;
    } else throw err;
  } finally {
    await shutdown.run();
  }
  return code;
}

/** Writes the job's tracks, events and detections as `skyvox up --record --record-detections` would; returns the scans written. */
async function writeOutputs(nc: NatsConnection, s: Subjects, job: string, rig: Scenario, out: string, signal: AbortSignal): Promise<number> {
  mkdirSync(out, { recursive: true });
  const scans = new Map<bigint, MessageOf<typeof Tracks>>();
  for (const m of await readStored(nc, batchStreamName(s), s.batch.tracks(job), signal)) {
    const t = validate(Tracks, decode(m.data));
    scans.set(t.t_ns, t);
  }
  const tracks = [...scans.values()].sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : 0));
  writeFileSync(join(out, 'tracks.jsonl'), tracks.map((t) => `${toJsonLine(t)}\n`).join(''));
  const events = (await readStored(nc, batchStreamName(s), s.batch.events(job), signal)).map((m) => validate(TrackEvent, decode(m.data)));
  events.sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : 0));
  writeFileSync(join(out, 'events.jsonl'), events.map((e) => `${toJsonLine(e)}\n`).join(''));
  // The motion stage's output too, as `--record-detections` writes it (a redone task's copy once).
  const dets = new Map<string, MessageOf<typeof DetectionFrame>>();
  for (const m of await readStored(nc, batchStreamName(s), s.batch.detAll(job), signal)) {
    const d = validate(DetectionFrame, decode(m.data));
    dets.set(`${d.cam}\n${d.seq}`, d);
  }
  const ordered = [...dets.values()].sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : a.cam < b.cam ? -1 : a.cam > b.cam ? 1 : 0));
  writeFileSync(join(out, 'detections.jsonl'), ordered.map((d) => `${toJsonLine(d)}\n`).join(''));
  writeFileSync(join(out, 'scenario.yaml'), stringifyYaml(rig));
  return tracks.length;
}
