/**
 * The batch worker actor: takes `skyvox process` tasks from the work-queue stream, one at a
 * time, whenever it is free. While a task runs it tells the server it is still working (so a
 * long task is not redelivered), and it stores the task's output — detections, or tracks and
 * events — in the results stream with message IDs before it acknowledges the task: a worker
 * that dies mid-task leaves it unacknowledged, the server hands it to another worker after
 * `ack_wait`, and what the first one stored is not stored twice. A task that fails is offered
 * again (after a pause) until its last delivery, which writes a `failed` record and ends it.
 */
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { hostname } from 'node:os';
import { ArchiveWriter } from '../../bus/archive.js';
import { decode, encode } from '../../bus/codec.js';
import { isTransientJetStreamError, readStored } from '../../bus/jetstream.js';
import { batchStreamName, ensureWorkQueue, WORKERS_CONSUMER, type WorkQueueOptions, workStreamName } from '../../bus/work-queue.js';
import { BatchRecord, BatchTask } from '../../schemas/batch.js';
import { DetectionFrame } from '../../schemas/detections.js';
import { type MessageOf, validate } from '../../schemas/message.js';
import { TrackEvent, Tracks } from '../../schemas/tracks.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { runMotionTask } from './motion-task.js';
import { detectionMaskFile } from '../../kernels/detection-mask.js';
import type { OfflineOptions } from './offline-pipeline.js';
import { rigFromText, runTrackTask } from './track-task.js';

type Task = MessageOf<typeof BatchTask>;

/** Pause before a failed task is offered again (ms). */
const RETRY_DELAY_MS = 1000;

/** Factory for the `batch-worker` actor kind: options `{ack_wait_s?, max_deliver?, replicas?}` (used if it creates the queue). */
export function batchWorkerActor(f: ActorFactoryContext): ActorBehavior<never> {
  const o = f.options as Record<string, unknown>;
  const queue: Partial<WorkQueueOptions> = {};
  for (const [key, field, min] of [['ack_wait_s', 'ackWaitS', 1], ['max_deliver', 'maxDeliver', 1], ['replicas', 'replicas', 1]] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new TypeError(`options.${key}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    queue[field] = v;
  }
  const node = f.node ?? hostname();
  let loop: Promise<void> | undefined;
  // Stopping ends the loop and hands a task in progress back (the actor's own signal only
  // fires after the stop hook has returned).
  const halt = new AbortController();
  return {
    start(ctx) {
      const bus = ctx.bus!;
      const s = bus.subjects;
      loop = (async () => {
        const wq = await ensureWorkQueue(bus.nc, s, queue);
        const consumer = await jetstream(bus.nc).consumers.get(workStreamName(s), WORKERS_CONSUMER);
        ctx.log.info({ ack_wait_s: wq.ackWaitS, max_deliver: wq.maxDeliver }, 'batch worker ready');
        while (!halt.signal.aborted) {
          let m: JsMsg | null;
          try {
            m = await consumer.next({ expires: 2000 });
          } catch (err) {
            if (!isTransientJetStreamError(err)) throw err;
            await new Promise((r) => setTimeout(r, 500));
            continue;
          }
          if (m && !halt.signal.aborted) await work(ctx, m);
          else m?.nak();
        }
      })().catch((err: Error) => {
        if (!halt.signal.aborted) ctx.fail(err);
      });
    },
    async stop() {
      halt.abort();
      await loop;
    },
  };

  async function work(ctx: ActorContext<never>, m: JsMsg): Promise<void> {
    const bus = ctx.bus!;
    const s = bus.subjects;
    ctx.stats.msgsIn++;
    let task: Task;
    try {
      task = validate(BatchTask, decode(m.data));
    } catch (err) {
      // Counted with the dead letter; a malformed task can never succeed.
      bus.deadLetter(m.subject, (err as Error).message, m.data);
      m.term();
      return;
    }
    const attempt = m.info.deliveryCount;
    const js = jetstream(bus.nc);
    const record = (event: 'started' | 'done' | 'failed', extra: Partial<MessageOf<typeof BatchRecord>> = {}) =>
      js.publish(s.batch.record(task.job), encode(validate(BatchRecord, { t_ns: nowNs(), job: task.job, task: task.task, event, node, worker: f.name, attempt, items: 0, ms: 0, reason: '', ...extra })), {
        msgID: `${task.job}:${task.task}:${event}:${attempt}`,
      });
    const began = performance.now();
    // Still working: renewed well inside ack_wait, so only a dead or stalled worker loses the task.
    const keepAlive = setInterval(() => m.working(), Math.max(250, (task.ack_wait_s * 1000) / 3));
    const abort = new AbortController();
    const onStop = () => abort.abort();
    halt.signal.addEventListener('abort', onStop, { once: true });
    const out = new ArchiveWriter(bus.nc, { maxBacklogBytes: 1024 ** 3 }, ctx.log);
    try {
      await record('started');
      ctx.log.info({ job: task.job, task: task.task, attempt }, 'task started');
      let items: number;
      if (task.kind === 'motion') {
        const params = (task.options?.motion ?? {}) as Record<string, unknown>;
        const maskFile = task.options?.mask;
        if (maskFile !== undefined && typeof maskFile !== 'string') throw new TypeError(`options.mask: expected a PGM file, got ${JSON.stringify(maskFile)}`);
        items = await runMotionTask(
          { cam: task.cam!, video: task.video!, index: task.index!, from: task.from!, to: task.to!, warmup: task.warmup ?? 0, params, ...(maskFile === undefined ? {} : { mask: detectionMaskFile(maskFile) }) },
          (d) => out.append(s.batch.det(task.job, d.cam), encode(validate(DetectionFrame, d)), `${task.job}:det:${d.cam}:${d.seq}`),
          abort.signal,
          (reason) => ctx.log.warn({ reason }, 'native motion kernel unavailable; using the TypeScript reference (slow)'),
        );
      } else {
        const stored = await readStored(bus.nc, batchStreamName(s), s.batch.detAll(task.job), abort.signal);
        const dets = stored.map((x) => validate(DetectionFrame, decode(x.data)));
        const r = await runTrackTask(rigFromText(task.scenario!), dets, (task.options ?? {}) as OfflineOptions, (scan) => {
          out.append(s.batch.tracks(task.job), encode(validate(Tracks, scan.tracks)), `${task.job}:tracks:${scan.tracks.t_ns}`);
          for (const e of scan.events) out.append(s.batch.events(task.job), encode(validate(TrackEvent, e)), `${task.job}:event:${e.t_ns}:${e.id}:${e.event}`);
        }, abort.signal);
        items = r.scans;
      }
      // Stored, then done, then acknowledged: a worker lost before the ack is redone, and its
      // output then comes back as duplicates of what is stored.
      await out.close(task.ack_wait_s * 1000);
      if (out.backlog > 0 || out.stats.dropped > 0) throw new Error(`results not stored: ${out.backlog} waiting, ${out.stats.dropped} dropped`);
      const ms = performance.now() - began;
      await record('done', { items, ms });
      await m.ackAck();
      ctx.stats.msgsOut += items;
      ctx.log.info({ job: task.job, task: task.task, attempt, items, ms: Math.round(ms) }, 'task done');
    } catch (err) {
      await out.close(0);
      if (halt.signal.aborted) {
        // Stopping: another worker takes it at once (this delivery still counts).
        m.nak();
        return;
      }
      const reason = (err as Error).message;
      ctx.stats.errors++;
      ctx.log.warn({ job: task.job, task: task.task, attempt, max_deliver: task.max_deliver, err: reason }, 'task failed');
      if (attempt >= task.max_deliver) {
        const why = `${reason} (attempt ${attempt} of ${task.max_deliver})`;
        await record('failed', { reason: why }).catch(() => {});
        bus.deadLetter(m.subject, `task given up: ${why}`, m.data);
        m.term(); // no reason: 2.9 would redeliver a term with one (PLATFORM.md)
      } else m.nak(RETRY_DELAY_MS);
    } finally {
      clearInterval(keepAlive);
      halt.signal.removeEventListener('abort', onStop);
    }
  }
}

