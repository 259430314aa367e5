/** `skyvox nodes`: the cluster's members from their heartbeats, the coordinator, and who runs what. */
import { Kvm } from '@nats-io/kv';
import { connectBus } from '../bus/connection.js';
import { decode } from '../bus/codec.js';
import { toJsonLine } from '../bus/json-lines.js';
import { subjectsFor } from '../bus/subjects.js';
import { readOrders } from '../actors/node-supervisor/coordinator.js';
import { readMembers } from '../actors/node-supervisor/membership.js';
import { NodePulse } from '../schemas/cluster.js';
import { type MessageOf, validate } from '../schemas/message.js';
import type { Logger } from '../supervisors/log.js';
import { natsTarget } from './nats-target.js';

export interface NodesOptions {
  nats?: string;
  user?: string;
  dataDir?: string;
  prefix?: string;
  json?: boolean;
}

/** How long `nodes` listens for the nodes' pulses (several pulse periods at the default silence). */
const PULSE_LISTEN_MS = 300;

type Watched = Record<string, { input_age_ms: number | null; output_age_ms: number | null }>;

/** Opens a bucket only if it exists (reading must not create cluster state). */
async function openIfExists(kvm: Kvm, bucket: string) {
  try {
    return await kvm.open(bucket);
  } catch {
    return undefined;
  }
}

/** Prints one line per node (or JSON lines); exit code 1 when no node has ever reported. */
export async function nodes(o: NodesOptions, log: Logger): Promise<number> {
  const target = natsTarget(o, 'admin');
  const s = subjectsFor(target.prefix);
  const nc = await connectBus({ servers: target.servers, user: target.user, pass: target.pass, name: 'skyvox-nodes', reconnect: false });
  try {
    const kvm = new Kvm(nc);
    const kvNodes = await openIfExists(kvm, s.kv.nodes);
    const members = kvNodes ? await readMembers(kvNodes).catch(() => []) : [];
    const kvAssign = await openIfExists(kvm, s.kv.assign);
    const orders = kvAssign ? await readOrders(kvAssign).catch(() => new Map()) : new Map();
    const kvCluster = await openIfExists(kvm, s.kv.cluster);
    const leaseEntry = kvCluster ? await kvCluster.get('coordinator').catch(() => null) : null;
    const lease = leaseEntry && leaseEntry.length > 0 ? (decode(leaseEntry.value) as { holder: string; term: number }) : undefined;
    const { heard: watched, unreadable } = members.some((m) => m.alive) && orders.size > 0 ? await listenForPulses(nc, s.pulseAll) : { heard: new Map<string, Watched>(), unreadable: 0 };
    if (unreadable > 0) log.warn({ subject: s.pulseAll, unreadable }, 'some pulses were not NodePulse messages (left out)');
    for (const m of members) {
      const placed = [...orders.values()].filter((x) => x.node === m.node).map((x) => x.actor);
      const seen = watched.get(m.node);
      const line = { node: m.node, alive: m.alive, age_ms: Math.round(m.age_ms), coordinator: lease?.holder === m.node, term: lease?.holder === m.node ? lease.term : undefined, cpu_percent: Math.round(m.cpu_percent), cores: m.cores, rss_mb: Math.round(m.rss_bytes / 2 ** 20), gpu: m.gpu, cameras: m.cameras, nats_server: m.nats_server, placed, actors: m.actors.length, ...(seen ? { watched: seen } : {}) };
      const ago = (ms: number | null) => (ms === null ? 'never' : `${ms} ms ago`);
      const liveness = seen ? Object.entries(seen).map(([a, w]) => `${a}: input ${ago(w.input_age_ms)}, output ${ago(w.output_age_ms)}`).join('; ') : '';
      if (o.json) process.stdout.write(`${toJsonLine(line)}\n`);
      else process.stdout.write(`${m.node.padEnd(14)} ${(m.alive ? 'alive' : 'DEAD').padEnd(6)} ${String(line.age_ms).padStart(6)} ms ago  cpu ${String(line.cpu_percent).padStart(4)}% of ${m.cores}  ${String(line.rss_mb).padStart(5)} MB  ${m.nats_server ? `via ${m.nats_server}  ` : ''}${line.coordinator ? `coordinator (term ${lease!.term})  ` : ''}placed: ${placed.join(', ') || '-'}${liveness ? `  (${liveness})` : ''}\n`);
    }
    if (members.length === 0) log.warn({ bucket: s.kv.nodes }, 'no node has reported a heartbeat (nodes run with a `cluster` section in their config)');
    return members.length > 0 ? 0 : 1;
  } finally {
    await nc.close();
  }
}

/** The newest pulse of each node heard within PULSE_LISTEN_MS (its watched actors' input and output ages), and how many could not be read. */
async function listenForPulses(nc: Awaited<ReturnType<typeof connectBus>>, subject: string): Promise<{ heard: Map<string, Watched>; unreadable: number }> {
  const heard = new Map<string, Watched>();
  let unreadable = 0;
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      let pulse: MessageOf<typeof NodePulse>;
      try {
        pulse = validate(NodePulse, decode(msg.data));
      } catch {
        // A reader, like `tail`: counted and said; the coordinators' buses dead-letter it.
        unreadable++;
        return;
      }
      heard.set(pulse.node, Object.fromEntries(pulse.actors.map((a) => [a.name, { input_age_ms: a.input_age_ms === null ? null : Math.round(a.input_age_ms), output_age_ms: a.output_age_ms === null ? null : Math.round(a.output_age_ms) }])));
    },
  });
  await new Promise((r) => setTimeout(r, PULSE_LISTEN_MS));
  sub.unsubscribe();
  return { heard, unreadable };
}
