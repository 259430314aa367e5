/** The telemetry actor: at the node's rate, one record per actor and one for the node itself. */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { ActorTelemetry, NodeTelemetry } from '../../schemas/telemetry.js';
import { type ActorBehavior, every } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorView } from './view.js';

/** Builds the telemetry behaviour; `view` lists the node's actors at each tick. */
export function telemetryBehavior(node: string, rateHz: number, view: () => ActorView[]): ActorBehavior<'tick'> {
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
  // Each actor's subject is built (and its tokens checked) once, not on every tick.
  const subjects = new Map<string, string>();
  const sampleHost = () => {
    const at = performance.now();
    if (at - sampledAt < SAMPLE_MS) return;
    const now = process.cpuUsage();
    const cpu_percent = ((now.user - lastCpu.user + now.system - lastCpu.system) / 1000 / Math.max(1e-3, at - lastAt)) * 100;
    [lastCpu, lastAt, sampledAt] = [now, at, at];
    const mem = process.memoryUsage();
    host = { cpu_percent, rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, mem_free_bytes: freemem(), mem_total_bytes: totalmem(), load1: loadavg()[0] ?? 0 };
  };
  return {
    start(ctx) {
      every(ctx, periodMs, () => ctx.send('tick'));
    },
    handle(_tick, ctx) {
      const s = ctx.bus!.subjects;
      const t_ns = nowNs();
      const actors = view();
      for (const a of actors) {
        let subject = subjects.get(a.name);
        if (subject === undefined) subjects.set(a.name, (subject = s.telemetryActor(node, a.name)));
        ctx.publish(ActorTelemetry, subject, {
          t_ns,
          node,
          actor: a.name,
          kind: a.kind,
          status: a.status,
          restarts: a.restarts,
          uptime_s: a.uptimeS,
          msgs_in: a.stats?.msgsIn ?? 0,
          msgs_out: a.stats?.msgsOut ?? 0,
          errors: a.stats?.errors ?? 0,
          dropped: a.stats?.dropped ?? 0,
          invalid: a.stats?.invalid ?? 0,
          mailbox_depth: a.mailboxDepth,
          latency_ms: a.stats?.latency.percentiles() ?? { p50: 0, p99: 0 },
        });
      }
      sampleHost();
      ctx.publish(NodeTelemetry, s.telemetryNode(node), {
        t_ns,
        node,
        pid: process.pid,
        uptime_s: (Date.now() - startedAt) / 1000,
        ...host,
        cores,
        actors: actors.length,
      });
    },
  };
}
