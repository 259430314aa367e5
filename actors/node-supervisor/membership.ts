/**
 * The membership actor: every `interval_ms` it writes this node's heartbeat (capacity, load,
 * hosted actors with their measured cost) to the `<prefix>_nodes` KV bucket. Readers declare
 * a node dead once its record is `missed` intervals old.
 */
import { cpus, freemem, hostname } from 'node:os';
import type { KV } from '@nats-io/kv';
import { encode, decode } from '../../bus/codec.js';
import { ensureKv } from '../../bus/jetstream.js';
import { NodeHeartbeat } from '../../schemas/cluster.js';
import { type MessageOf, validate } from '../../schemas/message.js';
import { type ActorBehavior, every } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorView } from './view.js';

export type Heartbeat = MessageOf<typeof NodeHeartbeat>;

export interface MembershipSettings {
  intervalMs: number;
  missed: number;
  cameras: string[];
  coordinator: boolean;
  /** Name of the GPU the native core would use, or null. */
  gpu: string | null;
  /** Replicas of the heartbeat bucket. */
  replicas: number;
}

/** Opens (creating if needed) the heartbeat bucket; records outlive a dead node for ten minutes. */
export const openNodesKv = (nc: Parameters<typeof ensureKv>[0], bucket: string, replicas = 1, requestTimeoutMs?: number): Promise<KV> => ensureKv(nc, bucket, { history: 1, ttl: 10 * 60_000, replicas }, requestTimeoutMs);

type Beat = { node: string; alive: boolean; age_ms: number; missed: number; interval_ms: number };

/**
 * Members judged against the reader's own node, which is alive by definition: while JetStream
 * elects a leader nobody's heartbeat lands, and once the store answers again every beat looks
 * stale by as long as the outage lasted. Staleness beyond what the reader's own beat shows is
 * a node's own; the store's lag is forgiven to all alike.
 */
export function aliveByOwnBeat<M extends Beat>(members: readonly M[], self: string): M[] {
  const own = members.find((m) => m.node === self);
  const lag = own ? Math.max(0, own.age_ms - own.interval_ms) : 0;
  return members.map((m) => ({ ...m, alive: m.alive || m.age_ms < m.missed * m.interval_ms + lag }));
}

/** Every node's last heartbeat, with whether it is alive at `now_ns` (site clock). */
export async function readMembers(kv: KV, now: bigint = nowNs()): Promise<(Heartbeat & { alive: boolean; age_ms: number })[]> {
  const out: (Heartbeat & { alive: boolean; age_ms: number })[] = [];
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT' || e.length === 0) continue;
    let hb: Heartbeat;
    try {
      hb = validate(NodeHeartbeat, decode(e.value));
    } catch {
      continue;
    }
    const age = Number(now - hb.t_ns) / 1e6;
    out.push({ ...hb, alive: age < hb.missed * hb.interval_ms, age_ms: age });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

/** Builds the membership behaviour; `view` lists the node's actors at each beat. */
export function membershipBehavior(node: string, settings: MembershipSettings, view: () => ActorView[]): ActorBehavior<'beat'> {
  let kv: KV;
  let seq = 0;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const lastBusy = new Map<string, number>();
  const cores = cpus().length;
  return {
    async start(ctx) {
      kv = await openNodesKv(ctx.bus!.nc, ctx.bus!.subjects.kv.nodes, settings.replicas);
      ctx.send('beat');
      every(ctx, settings.intervalMs, () => ctx.send('beat'));
    },
    async handle(_beat, ctx) {
      const at = performance.now();
      const wallMs = Math.max(1e-3, at - lastAt);
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      lastAt = at;
      const actors = view().map((a) => {
        const busy = a.stats?.busyMs ?? 0;
        const cost = Math.max(0, busy - (lastBusy.get(a.name) ?? busy)) / wallMs;
        lastBusy.set(a.name, busy);
        return { name: a.name, kind: a.kind, status: a.status, cost };
      });
      const hb: Heartbeat = {
        t_ns: nowNs(),
        node,
        seq: seq++,
        interval_ms: settings.intervalMs,
        missed: settings.missed,
        pid: process.pid,
        host: hostname(),
        cores,
        cpu_percent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
        rss_bytes: process.memoryUsage().rss,
        mem_free_bytes: freemem(),
        gpu: settings.gpu,
        cameras: settings.cameras,
        coordinator: settings.coordinator,
        nats_server: ctx.bus!.nc.getServer(),
        actors,
      };
      try {
        await kv.put(node, encode(validate(NodeHeartbeat, hb)));
      } catch (err) {
        // KV pauses while JetStream elects a leader: the next beat tries again.
        ctx.log.warn({ err: (err as Error).message }, 'heartbeat not written');
      }
    },
  };
}
