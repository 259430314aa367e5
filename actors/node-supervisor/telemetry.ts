/** The telemetry actor: at the node's rate, one record per actor and one for the node itself. */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Static } from '@sinclair/typebox';
import { FixedShapeEncoder } from '../../bus/fixed-shape.js';
import type { RecurringBatch, RecurringMessage } from '../../bus/recurring-batch.js';
import { ActorTelemetry, NodeTelemetry } from '../../schemas/telemetry.js';
import { type ActorBehavior, type ActorContext, every } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorView } from './view.js';

/** Builds the telemetry behaviour; `view` lists the node's actors at each tick. */
export function telemetryBehavior(node: string, rateHz: number, view: () => ActorView[]): ActorBehavior<never> {
  const periodMs = 1000 / rateHz;
  const cores = cpus().length; // os.cpus() is costly; the count does not change
  const startedAt = Date.now();
  // The node's own figures (CPU, memory, load) are read at most once a second and published
  // with every record: reading them costs more than the rest of a tick on some machines.
  const SAMPLE_MS = 1000;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let host = { cpu_percent: 0, rss_bytes: 0, heap_used_bytes: 0, mem_free_bytes: 0, mem_total_bytes: totalmem(), load1: 0 };
  let sampledAt = -Infinity;
  const sampleHost = () => {
    const at = performance.now();
    if (at - sampledAt < SAMPLE_MS) return;
    const now = process.cpuUsage();
    const cpu_percent = ((now.user - lastCpu.user + now.system - lastCpu.system) / 1000 / Math.max(1e-3, at - lastAt)) * 100;
    [lastCpu, lastAt, sampledAt] = [now, at, at];
    const mem = process.memoryUsage();
    host = { cpu_percent, rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, mem_free_bytes: freemem(), mem_total_bytes: totalmem(), load1: loadavg()[0] ?? 0 };
  };
  // Each actor's record object and message live as long as the actor does: a tick rewrites
  // the numbers of the last tick's bytes and sends every record in one write.
  const actorEncoder = new FixedShapeEncoder(ActorTelemetry);
  const entries = new Map<string, { message: RecurringMessage<typeof ActorTelemetry.schema>; record: Static<typeof ActorTelemetry.schema>; seen: number }>();
  let batch: RecurringBatch | undefined;
  let nodeMessage: RecurringMessage<typeof NodeTelemetry.schema> | undefined;
  let tick = 0;
  /** One tick: every actor's record and the node's, in one write. */
  const publishTick = (ctx: ActorContext<never>) => {
    const t_ns = nowNs();
    const actors = view();
    tick++;
    for (const a of actors) {
      let e = entries.get(a.name);
      if (e === undefined) {
        const record = { t_ns, node, actor: a.name, kind: a.kind, status: a.status, restarts: 0, uptime_s: 0, msgs_in: 0, msgs_out: 0, errors: 0, dropped: 0, invalid: 0, mailbox_depth: 0, latency_ms: { p50: 0, p99: 0 } };
        entries.set(a.name, (e = { message: batch!.message(ctx.bus!.subjects.telemetryActor(node, a.name), actorEncoder), record, seen: tick }));
      }
      e.seen = tick;
      const r = e.record;
      const st = a.stats;
      r.t_ns = t_ns;
      r.kind = a.kind;
      r.status = a.status;
      r.restarts = a.restarts;
      r.uptime_s = a.uptimeS;
      r.msgs_in = st?.msgsIn ?? 0;
      r.msgs_out = st?.msgsOut ?? 0;
      r.errors = st?.errors ?? 0;
      r.dropped = st?.dropped ?? 0;
      r.invalid = st?.invalid ?? 0;
      r.mailbox_depth = a.mailboxDepth;
      r.latency_ms = st?.latency.percentiles() ?? ZERO_LATENCY;
      e.message.set(r);
    }
    if (entries.size > actors.length) for (const [name, e] of entries) if (e.seen !== tick) entries.delete(name);
    sampleHost();
    nodeMessage!.set({ t_ns, node, pid: process.pid, uptime_s: (Date.now() - startedAt) / 1000, ...host, cores, actors: actors.length });
    ctx.stats.msgsOut += batch!.send();
  };
  return {
    start(ctx) {
      batch = ctx.bus!.recurring();
      nodeMessage = batch.message(ctx.bus!.subjects.telemetryNode(node), new FixedShapeEncoder(NodeTelemetry));
      // Straight from the timer, not through the mailbox: a tick is not a message, and the
      // mailbox's round trip cost as much as the records themselves at 10 Hz.
      every(ctx, periodMs, () => {
        try {
          publishTick(ctx);
        } catch (err) {
          ctx.fail(err as Error);
        }
      });
    },
  };
}

const ZERO_LATENCY = Object.freeze({ p50: 0, p99: 0 });
