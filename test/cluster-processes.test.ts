/**
 * The cluster as users run it: three `skyvox server` processes forming a NATS cluster with
 * JetStream, three `skyvox node` processes, and `kill -9`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { stringify } from 'yaml';
import { openAssignKv, openClusterKv, readOrders } from '../actors/node-supervisor/coordinator.js';
import { archiveStreamName } from '../bus/archive.js';
import { withJetStreamRetry } from '../bus/jetstream.js';
import { Bus } from '../bus/bus.js';
import { decode, f64ToBin } from '../bus/codec.js';
import { connectBus } from '../bus/connection.js';
import { loadOrCreateCredentials } from '../bus/credentials.js';
import { freePort } from '../bus/nats-server.js';
import { Measurements } from '../schemas/measurement.js';
import { Tracks } from '../schemas/tracks.js';
import { nowNs } from '../supervisors/clock.js';
import { type Cli, killAll, skyvox } from './helpers/cli.js';
import { sleep, startTestNats, waitFor } from './helpers/nats.js';

/** Publishes one drone's measurement every 40 ms (10 m/s along x); clearInterval stops it. */
function feedOneDrone(bus: Bus): ReturnType<typeof setInterval> {
  const t0 = nowNs();
  let k = 0;
  return setInterval(() => {
    bus.publish(Measurements, bus.subjects.meas, { t_ns: t0 + BigInt(k) * 40_000_000n, count: 1, pairs: ['p1', 'p2'], points: f64ToBin([0.4 * k, 0, 100, 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 2, 2]) });
    k++;
  }, 40);
}

describe('cluster of processes (3 NATS servers, 3 nodes)', function () {
  this.timeout(90_000);
  let dir: string;
  afterEach(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 the tracker node: tracks resume elsewhere with the same IDs; kill -9 a NATS server: live tracks go on and the archive loses nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyvox-cluster-'));
    const creds = loadOrCreateCredentials(dir);
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const urls = [0, 1, 2].map((i) => `nats://127.0.0.1:${ports[i]}`);
    const routes = [0, 1, 2].map((i) => `nats-route://127.0.0.1:${ports[3 + i]}`);
    const servers: Cli[] = [0, 1, 2].map((i) =>
      skyvox(['server', '--name', `s${i + 1}`, '--nats-port', String(ports[i]), '--cluster-port', String(ports[3 + i]), '--routes', routes.filter((_, j) => j !== i).join(','), '--ws-port', '0', '--data-dir', dir]),
    );
    await waitFor(() => servers.every((s) => /nats-server s\d on/.test(s.stdout())), 'three servers', 20_000);
    const config = join(dir, 'node.yaml');
    writeFileSync(
      config,
      stringify({ cluster: { replicas: 3, actors: [{ name: 'tracker', kind: 'tracker', options: { checkpoint_ms: 200, replicas: 3 }, liveness: { input: 'skyvox.meas', output: 'skyvox.tracks' } }] } }),
    );
    const nodes = new Map<string, Cli>();
    for (const n of ['n1', 'n2', 'n3']) nodes.set(n, skyvox(['node', '--nats', urls.join(','), '--name', n, '--config', config, '--data-dir', dir], { env: { SKYVOX_LOG_LEVEL: 'info' } }));
    await waitFor(() => [...nodes.values()].every((c) => /node n\d up/.test(c.stdout())), 'three nodes', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${[...nodes].map(([n, c]) => `${n}: ${c.stdout()} ${c.stderr().split('\n').slice(-5).join(' | ')}`).join(' || ')}`);
    });

    const nc = await connectBus({ servers: urls, user: 'node', pass: creds.node, name: 'test' });
    try {
      const bus = new Bus(nc, { receiver: 'test' });
      const orders = await openAssignKv(nc, bus.subjects.kv.assign, 3);
      let host = '';
      await waitFor(async () => (host = (await readOrders(orders)).get('tracker')?.node ?? '') !== '', 'the tracker placed', 20_000);
      const live: { at: number; t_ns: bigint; ids: string[] }[] = [];
      bus.subscribe(Tracks, bus.subjects.tracks, (t) => void live.push({ at: performance.now(), t_ns: t.t_ns, ids: t.tracks.filter((x) => x.status !== 'tentative').map((x) => x.id) }));
      const feed = feedOneDrone(bus);
      try {
        await waitFor(() => live.some((s) => s.ids.length === 1), 'a confirmed track', 20_000);
        await sleep(500);
        const ids = live.at(-1)!.ids;
        host = (await readOrders(orders)).get('tracker')!.node;
        nodes.get(host)!.child.kill('SIGKILL');
        const killedAt = performance.now();
        const before = live.length;
        await waitFor(() => live.length > before + 10, 'tracks from another node', 10_000);
        // Scans the dead node sent just before dying may still arrive; the new tracker's
        // first scan is the one after the silence.
        const after = live.slice(before - 1);
        const gap = after.findIndex((s, j) => j > 0 && s.at - after[j - 1]!.at > 200);
        const story = () => [...nodes].map(([n, c]) => `${n}: ${c.stderr().split('\n').filter((l) => /assignments|coordinator|tracker/.test(l)).map((l) => { try { const j = JSON.parse(l) as { msg: string; time: number; actor?: string; node?: string; term?: number }; return `${j.time % 100000} ${j.msg} ${j.actor ?? ''} ${j.node ?? ''} ${j.term ?? ''}`; } catch { return l; } }).join('; ')}`).join('\n');
        assert.ok(gap > 0, `tracks went silent when their node died (else two trackers were publishing); killed ${host}\n${story()}`);
        const resumeMs = after[gap]!.at - killedAt;
        assert.ok(resumeMs < 2000, `tracks resumed ${Math.round(resumeMs)} ms after kill -9 of ${host}\n${story()}`);
        assert.deepEqual(live.at(-1)!.ids, ids, 'same track IDs after the failover');
        const newHost = (await readOrders(orders)).get('tracker')!.node;
        assert.notEqual(newHost, host);

        // A NATS server dies: clients fail over to the others; live output must not pause.
        servers[1]!.child.kill('SIGKILL');
        await sleep(6000);
        const gaps = live.slice(before + 10).map((s, i, a) => (i ? s.at - a[i - 1]!.at : 0));
        assert.ok(Math.max(...gaps) < 1000, `live tracks paused ${Math.round(Math.max(...gaps))} ms when a server died`);
        // The cluster's own state (R3 KV) survives the server: the lease is still being renewed.
        const lease = await openClusterKv(nc, bus.subjects.kv.cluster, 3);
        // (The election after a server loss can outlast the wait above: PLATFORM.md says 1–8 s.)
        const rev0 = (await withJetStreamRetry(() => lease.get('coordinator')))!.revision;
        await waitFor(async () => (await withJetStreamRetry(() => lease.get('coordinator')))!.revision > rev0, 'a lease renewal after the server died', 10_000);
        process.stderr.write(`    node kill -9 → tracks again after ${Math.round(resumeMs)} ms; longest live gap after the server kill ${Math.round(Math.max(...gaps))} ms\n`);
      } finally {
        clearInterval(feed);
      }
      // The durable copy catches up: every scan seen live is in the archive, once.
      await sleep(3000);
      const archived: bigint[] = [];
      const consumer = await withJetStreamRetry(() => jetstream(nc).consumers.get(archiveStreamName(bus.subjects), { filter_subjects: bus.subjects.archiveOf(bus.subjects.tracks), deliver_policy: DeliverPolicy.All }));
      // Fetch until a batch comes back empty (the stream may still be catching up).
      for (let got = -1; got !== 0; ) {
        got = 0;
        for await (const m of await consumer.fetch({ max_messages: 500, expires: 2000 })) {
          archived.push((decode(m.data) as { t_ns: bigint }).t_ns);
          got++;
        }
      }
      assert.equal(new Set(archived.map(String)).size, archived.length, 'no scan archived twice');
      const have = new Set(archived.map(String));
      const missing = live.filter((s) => !have.has(String(s.t_ns)));
      assert.deepEqual(missing.map((s) => String(s.t_ns)), [], `${missing.length} of ${live.length} live scans missing from the archive`);
    } finally {
      await nc.close();
    }
  });

  it('SIGSTOP the tracker\'s node past the lease, then SIGCONT: its tracker is fenced and stopped; never two trackers publishing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyvox-stop-'));
    const nats = await startTestNats();
    try {
      const config = join(dir, 'node.yaml');
      writeFileSync(config, stringify({ cluster: { actors: [{ name: 'tracker', kind: 'tracker', options: { checkpoint_ms: 200 }, liveness: { input: 'skyvox.meas', output: 'skyvox.tracks' } }] } }));
      const env = { SKYVOX_NODE_PASSWORD: nats.server.credentials.node, SKYVOX_LOG_LEVEL: 'info' };
      const nodes = new Map(['n1', 'n2'].map((n) => [n, skyvox(['node', '--nats', nats.server.url, '--name', n, '--config', config, '--data-dir', dir], { env })]));
      await waitFor(() => [...nodes.values()].every((c) => /node n\d up/.test(c.stdout())), 'two nodes', 30_000);
      const nc = await nats.connect('node');
      const bus = new Bus(nc, { receiver: 'test' });
      const orders = await openAssignKv(nc, bus.subjects.kv.assign);
      const lease = await openClusterKv(nc, bus.subjects.kv.cluster);
      await waitFor(async () => (await readOrders(orders)).has('tracker'), 'the tracker placed', 20_000);
      const got: bigint[] = [];
      bus.subscribe(Tracks, bus.subjects.tracks, (t) => void got.push(t.t_ns));
      const feed = feedOneDrone(bus);
      let stopped: Cli | undefined;
      try {
        await waitFor(() => got.length > 20, 'tracks', 20_000);
        const host = (await readOrders(orders)).get('tracker')!.node;
        const coordinator = (decode((await lease.get('coordinator'))!.value) as { holder: string; term: number });
        stopped = nodes.get(host)!;
        stopped.child.kill('SIGSTOP');
        const n = got.length;
        await waitFor(() => got.length > n + 25, 'tracks from the other node while this one is stopped', 10_000);
        assert.notEqual((await readOrders(orders)).get('tracker')!.node, host);
        stopped.child.kill('SIGCONT');
        await sleep(2500);
        await waitFor(() => /moved while this node was paused; stopping/.test(stopped!.stderr()), 'the woken node to stop its tracker', 5000);
        assert.match(stopped.stderr(), /paused longer than the lease/);
        if (coordinator.holder === host) {
          const now = decode((await lease.get('coordinator'))!.value) as { holder: string; term: number };
          assert.notEqual(now.holder, host, 'the paused coordinator lost the lease');
          assert.ok(now.term > coordinator.term);
        }
        process.stderr.write(`    SIGSTOP ${host} (${coordinator.holder === host ? 'tracker and coordinator' : 'tracker'}): ${got.length} scans, none stale or twice\n`);
      } finally {
        clearInterval(feed);
        stopped?.child.kill('SIGCONT');
      }
      // One publisher at a time: every scan newer than the one before it, none repeated.
      const stale = got.filter((t, i) => i > 0 && t <= got[i - 1]!);
      assert.deepEqual(stale.map(String), [], 'scans out of order or twice: two trackers were publishing');
    } finally {
      await nats.dispose();
    }
  });
});
