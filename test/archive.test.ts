import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { archiveStreamName, ArchiveWriter, ensureArchiveStream } from '../bus/archive.js';
import { Bus } from '../bus/bus.js';
import { decode, encode, f64ToBin } from '../bus/codec.js';
import { subjectsFor } from '../bus/subjects.js';
import { actorRegistry } from '../cli/registry.js';
import { parseSince } from '../cli/tail.js';
import { Measurements } from '../schemas/measurement.js';
import { Tracks } from '../schemas/tracks.js';
import { nowNs } from '../supervisors/clock.js';
import { Actor } from '../supervisors/actor.js';
import { silentLogger } from '../supervisors/log.js';
import { trackerActor } from '../actors/tracker/tracker-actor.js';
import { ensureKv } from '../bus/jetstream.js';
import { killAll, skyvoxRun } from './helpers/cli.js';
import { sleep, startTestNats, type TestNats, waitFor } from './helpers/nats.js';

describe('durable output (archive stream)', () => {
  let nats: TestNats;
  beforeEach(async () => {
    nats = await startTestNats();
  });
  afterEach(async () => {
    killAll();
    await nats.dispose();
  });

  it('holds messages while the stream is unavailable, then stores each once, in order', async () => {
    const nc = await nats.connect('node');
    const s = subjectsFor();
    const writer = new ArchiveWriter(nc);
    // No stream yet: JetStream has nowhere to put these, as during a leader election.
    for (let i = 0; i < 5; i++) writer.append(s.archiveOf(s.tracks), encode({ i }), `tracks:${i}`);
    await waitFor(() => writer.stats.retries >= 2, 'failed attempts');
    assert.equal(writer.stats.stored, 0);
    await ensureArchiveStream(nc, s);
    await waitFor(() => writer.backlog === 0, 'the backlog to drain');
    // A retry of an already stored message (same ID) is recognised, not stored twice.
    writer.append(s.archiveOf(s.tracks), encode({ i: 4 }), 'tracks:4');
    await waitFor(() => writer.backlog === 0, 'the retry');
    assert.deepEqual([writer.stats.stored, writer.stats.duplicates], [5, 1]);
    const info = await (await jetstreamManager(nc)).streams.info(archiveStreamName(s));
    assert.equal(info.state.messages, 5);
  });

  it('a tracker restarted continues its own run\'s checkpoint, never that of a run just before it', async () => {
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const s = bus.subjects;
    const t0 = nowNs();
    const feed = async (from: number, to: number) => {
      for (let k = from; k < to; k++) {
        bus.publish(Measurements, s.meas, { t_ns: t0 + BigInt(k) * 40_000_000n, count: 1, pairs: ['p1', 'p2'], points: f64ToBin([10 * k * 0.04, 0, 100, 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 2, 2]) });
        await bus.nc.flush();
        await sleep(5);
      }
    };
    const run = async (session: string, from: number, to: number, scans = to - from) => {
      const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'n1', actors: [{ name: 'tracker', kind: 'tracker', options: { session, checkpoint_ms: 20, archive: false } }] }), bus, registry: actorRegistry() });
      const seen: string[][] = [];
      const sub = bus.subscribe(Tracks, s.tracks, (t) => void seen.push(t.tracks.filter((x) => x.status !== 'tentative').map((x) => x.id)));
      await node.start();
      await waitFor(() => node.list().some((a) => a.name === 'tracker' && a.status === 'running'), 'the tracker');
      await sleep(200);
      await feed(from, to);
      await waitFor(() => seen.length === scans, 'a scan per measurement');
      await node.stop();
      sub.unsubscribe();
      return seen;
    };
    assert.deepEqual((await run('A', 0, 10)).at(-1), ['t1']);
    // The same run restarted (a crash, a failover) goes on with its track.
    assert.deepEqual((await run('A', 10, 12))[0], ['t1']);
    // Restarted on measurements its checkpoint already holds (a tracker moved while the old
    // one still ran): it skips those and goes on with its track.
    const moved = await run('A', 10, 14, 2);
    assert.deepEqual(moved, [['t1'], ['t1']]);
    // Another run, a moment later on the same store, starts empty.
    assert.deepEqual((await run('B', 14, 16))[0], []);
  });

  it('while a replaced tracker incarnation still publishes, the recorder keeps the newest\'s scans', async () => {
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-fence-'));
    const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'n1', actors: [{ name: 'recorder', kind: 'recorder', options: { dir, streams: [{ subject: 'tracks', type: 'Tracks', file: 'tracks.jsonl' }] } }] }), bus, registry: actorRegistry() });
    await node.start();
    const t0 = nowNs();
    const [old, moved] = [t0 - 5_000_000_000n, t0 - 1_000_000_000n];
    try {
      // The old incarnation publishes instants 1 and 2, the new one (placed later) 2 and 3, the
      // old one, not yet stopped, 3 and 4, and the new one 4.
      const order: [bigint, number][] = [[old, 1], [old, 2], [moved, 2], [moved, 3], [old, 3], [old, 4], [moved, 4]];
      for (const [epoch, k] of order) {
        bus.publish(Tracks, bus.subjects.tracks, { t_ns: t0 + BigInt(k) * 40_000_000n, scan: k, published_ns: nowNs(), epoch, tracks: [] });
        await bus.nc.flush();
      }
      await sleep(300);
    } finally {
      await node.stop();
    }
    const lines = readFileSync(join(dir, 'tracks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { scan: number; epoch: number | string });
    rmSync(dir, { recursive: true, force: true });
    // Before the new incarnation's first scan the old one's are the only word; after it, never again.
    // (JSON numbers this large keep 15–16 digits: the two epochs are 4 s apart.)
    assert.deepEqual(lines.map((l) => [Number(l.epoch) < Number(moved) - 2e9 ? 'old' : 'new', l.scan]), [['old', 1], ['old', 2], ['new', 2], ['new', 3], ['new', 4]]);
  });

  it('a placed tracker that hears a later incarnation publish goes quiet and checkpoints no more; once that one is silent it speaks again', async function () {
    this.timeout(30_000);
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const t0 = nowNs();
    const [placed, later] = [t0 - 5_000_000_000n, t0 - 1_000_000_000n];
    const tracker = new Actor({ name: 'tracker', kind: 'tracker', bus, behavior: trackerActor({ name: 'tracker', node: 'n1', options: { checkpoint_ms: 50 }, bus, log: silentLogger, placedNs: placed }) });
    await tracker.start();
    const s = bus.subjects;
    const own: bigint[] = [];
    bus.subscribe(Tracks, s.tracks, (t) => void (t.epoch === placed && own.push(t.t_ns)));
    const checkpoints = await ensureKv(bus.nc, s.kv.state);
    const revision = async () => (await checkpoints.get('tracker'))?.revision ?? 0;
    let k = 0;
    /** One instant's measurement (a drone at 10 m/s), and the later incarnation's scan of it when it runs. */
    const instant = async (laterToo: boolean) => {
      const t_ns = t0 + BigInt(k) * 40_000_000n;
      bus.publish(Measurements, s.meas, { t_ns, count: 1, pairs: ['p1', 'p2'], points: f64ToBin([0.4 * k, 0, 100, 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 2, 2]) });
      if (laterToo) bus.publish(Tracks, s.tracks, { t_ns, scan: k, published_ns: nowNs(), epoch: later, tracks: [] });
      k++;
      await sleep(40);
    };
    try {
      for (let i = 0; i < 10; i++) await instant(false);
      await waitFor(() => own.length >= 8, 'its own scans');
      await waitFor(async () => (await revision()) > 0, 'its checkpoints');
      for (let i = 0; i < 5; i++) await instant(true);
      const [quietFrom, rev] = [own.length, await revision()];
      for (let i = 0; i < 20; i++) await instant(true);
      assert.equal(own.length, quietFrom, 'no scan of its own while the later incarnation publishes');
      assert.equal(await revision(), rev, 'no checkpoint over the later incarnation\'s');
      // The later one silent: after a reader's 2 s it is the only voice, and speaks again.
      for (let i = 0; i < 75; i++) await instant(false);
      assert.ok(own.length > quietFrom + 10, `${own.length - quietFrom} scans of its own after the later incarnation went silent`);
      assert.ok((await revision()) > rev, 'checkpoints again');
    } finally {
      await tracker.stop();
    }
  });

  it('an earlier tracker incarnation that has not heard its successor never overwrites the successor\'s checkpoint', async function () {
    this.timeout(20_000);
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const s = bus.subjects;
    // The earlier one hears no one (as on a starved node that has not read its order to stop);
    // the later one was placed after it. The earlier subscribes last, so it handles each
    // measurement, and writes its checkpoint, after the later one — as a starved node would.
    const earlier = new Actor({ name: 'tracker', kind: 'tracker', bus, behavior: trackerActor({ name: 'tracker', node: 'n1', options: { checkpoint_ms: 30, archive: false }, bus, log: silentLogger }) });
    const placed = nowNs();
    const later = new Actor({ name: 'tracker', kind: 'tracker', bus, behavior: trackerActor({ name: 'tracker', node: 'n2', options: { checkpoint_ms: 30, archive: false }, bus, log: silentLogger, placedNs: placed }) });
    await later.start();
    await earlier.start();
    const checkpoints = await ensureKv(bus.nc, s.kv.state);
    const writer = async () => {
      const e = await checkpoints.get('tracker');
      return e && e.length > 0 ? String((decode(e.value) as { epoch?: bigint }).epoch) : undefined;
    };
    const t0 = nowNs();
    const writers: (string | undefined)[] = [];
    try {
      for (let k = 0; k < 60; k++) {
        bus.publish(Measurements, s.meas, { t_ns: t0 + BigInt(k) * 40_000_000n, count: 1, pairs: ['p1', 'p2'], points: f64ToBin([0.4 * k, 0, 100, 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 2, 2]) });
        await sleep(20);
        if (k >= 30) writers.push(await writer());
      }
    } finally {
      await earlier.stop();
      await later.stop();
    }
    // Its final checkpoint on stopping does not overwrite the successor's either.
    writers.push(await writer());
    assert.deepEqual([...new Set(writers)], [String(placed)], 'every checkpoint read is the later incarnation\'s');
  });

  it('the tracker archives every scan; `tail tracks --since start` replays them in order', async () => {
    const bus = new Bus(await nats.connect('node'), { receiver: 'test' });
    const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'n1', actors: [{ name: 'tracker', kind: 'tracker' }] }), bus, registry: actorRegistry() });
    await node.start();
    const t0 = 1_800_000_000_000_000_000n;
    try {
      const s = bus.subjects;
      await waitFor(async () => (await (await jetstreamManager(bus.nc)).streams.names().next()).includes(archiveStreamName(s)), 'the archive stream');
      for (let k = 0; k < 8; k++) {
        bus.publish(Measurements, s.meas, { t_ns: t0 + BigInt(k) * 40_000_000n, count: 1, pairs: ['p1', 'p2'], points: f64ToBin([10 * k * 0.04, 0, 100, 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01, 2, 2]) });
        await bus.nc.flush();
      }
      const jsm = await jetstreamManager(bus.nc);
      await waitFor(async () => (await jsm.streams.info(archiveStreamName(s))).state.messages >= 8 + 2, 'scans and events in the archive');
    } finally {
      await node.stop();
    }
    const env = { SKYVOX_ADMIN_PASSWORD: nats.server.credentials.admin };
    const res = await skyvoxRun(['tail', 'tracks', '--since', 'start', '--count', '8', '--json', '--nats', nats.server.url], { env });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { subject: string; data: { scan: number; t_ns: number; tracks: { id: string }[] } });
    assert.deepEqual(lines.map((l) => l.data.scan), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.ok(lines.every((l) => l.subject === 'skyvox.tracks'), 'printed under the live subject');
    assert.deepEqual(lines[7]!.data.tracks.map((t) => t.id), ['t1']);
    const events = await skyvoxRun(['tail', 'events', '--since', 'start', '--count', '2', '--json', '--nats', nats.server.url], { env });
    assert.deepEqual(events.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { data: { event: string } }).data.event), ['born', 'confirmed']);
    const bad = await skyvoxRun(['tail', 'telemetry', '--since', '5m', '--nats', nats.server.url], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: only skyvox\.tracks and skyvox\.track\.events are archived/);
  });

  it('--since takes durations, ISO times and "start", and names what it expected otherwise', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(parseSince('90s', now), now - 90_000);
    assert.equal(parseSince('2h', now), now - 7_200_000);
    assert.equal(parseSince('2026-11-29T11:00:00Z', now), now - 3_600_000);
    assert.equal(parseSince('start', now), 'start');
    assert.throws(() => parseSince('yesterday', now), /--since: expected a duration \(30s, 10m, 2h, 1d\), an ISO time .* got "yesterday"/);
  });
});
