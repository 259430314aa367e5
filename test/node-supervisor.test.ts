import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/nats-core';
import { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { ConfigError, parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { CtlReply, CtlRequest } from '../schemas/ctl.js';
import { validate } from '../schemas/message.js';
import { ActorTelemetry, NodeTelemetry } from '../schemas/telemetry.js';
import { ActorRegistry } from '../supervisors/registry.js';
import { startTestNats, type TestNats, waitFor } from './helpers/nats.js';

const registry = () => new ActorRegistry().register('sink', () => ({ handle: () => {} }));

describe('node-supervisor', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let admin: Bus;
  before(async () => {
    nats = await startTestNats();
    nc = await nats.connect('node');
    admin = new Bus(await nats.connect('admin'), { receiver: 'test-admin' });
  });
  after(() => nats.dispose());

  async function startNode(overrides: Record<string, unknown> = {}) {
    const stops: string[] = [];
    const config = parseNodeConfig({ name: 'n1', telemetry: { rate_hz: 20 }, actors: [{ name: 'a1', kind: 'sink' }, { name: 'a2', kind: 'sink', restart: 'transient' }], ...overrides });
    const node = new NodeSupervisor({ config, bus: new Bus(nc, { receiver: 'n1' }), registry: registry(), onStopRequested: (why) => stops.push(why) });
    await node.start();
    await nc.flush();
    return { node, stops };
  }
  const ask = (cmd: string, actor?: string) => admin.request(CtlRequest, CtlReply, 'skyvox.ctl.n1', actor ? { cmd, actor } : { cmd });

  it('lists every actor with kind, state, restarts and uptime', async () => {
    const { node } = await startNode();
    const reply = await ask('list');
    assert.equal(reply.ok, true);
    assert.deepEqual(reply.actors!.map((a) => [a.name, a.kind, a.status, a.restarts]), [
      ['telemetry', 'telemetry', 'running', 0],
      ['ctl', 'ctl', 'running', 0],
      ['a1', 'sink', 'running', 0],
      ['a2', 'sink', 'running', 0],
    ]);
    assert.ok(reply.actors!.every((a) => a.uptime_s >= 0));
    await node.stop();
  });

  it('adds actors to a started node after the configured ones, and refuses a name in use', async () => {
    const { node } = await startNode();
    await node.startActors([{ name: 'late', kind: 'sink' }]);
    assert.deepEqual((await ask('list')).actors!.map((a) => [a.name, a.status]).slice(-3), [['a1', 'running'], ['a2', 'running'], ['late', 'running']]);
    await assert.rejects(node.startActors([{ name: 'a1', kind: 'sink' }]), /the name "a1" is taken/);
    await assert.rejects(node.startActors([{ name: 'x', kind: 'nope' }]), /kind "nope" of actor "x" is not known/);
    await node.stop();
  });

  it('restarts an actor on request and counts it', async () => {
    const { node } = await startNode();
    const reply = await ask('restart', 'a1');
    assert.deepEqual([reply.ok, reply.message], [true, 'a1 restarted']);
    const list = await ask('list');
    assert.equal(list.actors!.find((a) => a.name === 'a1')!.restarts, 1);
    await node.stop();
  });

  it('refuses crash unless fault injection is allowed', async () => {
    const { node } = await startNode();
    const reply = await ask('crash', 'a1');
    assert.equal(reply.ok, false);
    assert.equal(reply.error!.code, 'FAULT_INJECTION_DISABLED');
    assert.equal((await ask('list')).actors!.find((a) => a.name === 'a1')!.restarts, 0);
    await node.stop();
  });

  it('with fault injection, crash makes the supervisor restart the actor', async () => {
    const { node } = await startNode({ allow_fault_injection: true });
    assert.equal((await ask('crash', 'a2')).ok, true);
    await waitFor(async () => (await ask('list')).actors!.find((a) => a.name === 'a2')!.restarts === 1, 'the restart of a2');
    // the control actor can crash itself: it answers first, then comes back
    assert.equal((await ask('crash', 'ctl')).ok, true);
    await waitFor(async () => (await ask('list').catch(() => undefined))?.actors?.find((a) => a.name === 'ctl')?.restarts === 1, 'the restart of ctl');
    await node.stop();
  });

  it('answers unknown commands, unknown actors and malformed requests with error codes', async () => {
    const { node } = await startNode();
    assert.equal((await ask('reboot')).error!.code, 'UNKNOWN_COMMAND');
    assert.equal((await ask('restart', 'ghost')).error!.code, 'UNKNOWN_ACTOR');
    assert.equal((await ask('restart')).error!.code, 'INVALID_REQUEST');
    const raw = await nc.request('skyvox.ctl.n1', encode({ command: 'list' }), { timeout: 2000 });
    const reply = validate(CtlReply, decode(raw.data));
    assert.equal(reply.error!.code, 'INVALID_REQUEST');
    assert.match(reply.error!.message, /cmd: expected required property/);
    const ctlStats = node.list().find((a) => a.name === 'ctl')!.stats!;
    assert.equal(ctlStats.invalid, 1, 'the malformed request was counted (and dead-lettered)');
    await node.stop();
  });

  it('stop asks the process to shut down', async () => {
    const { node, stops } = await startNode();
    assert.equal((await ask('stop')).ok, true);
    await waitFor(() => stops.length === 1, 'the stop request');
    assert.deepEqual(stops, ['ctl']);
    await node.stop();
  });

  it('publishes telemetry per actor and per node at the configured rate', async () => {
    const records = new Map<string, unknown[]>();
    const sub = admin.nc.subscribe('skyvox.telemetry.>', {
      callback: (_e, m) => {
        const list = records.get(m.subject) ?? [];
        list.push(decode(m.data));
        records.set(m.subject, list);
      },
    });
    await admin.nc.flush();
    const t0 = Date.now();
    const { node } = await startNode();
    await waitFor(() => (records.get('skyvox.telemetry.n1.a1')?.length ?? 0) >= 10, 'ten records of a1');
    const elapsed = (Date.now() - t0) / 1000;
    await node.stop();
    sub.unsubscribe();
    // 20 Hz: ten records take at least 0.45 s (loose bound; this is a rate check, not a timing test)
    assert.ok(elapsed >= 0.45, `ten records at 20 Hz arrived in ${elapsed} s`);
    for (const name of ['telemetry', 'ctl', 'a1', 'a2']) {
      const rec = validate(ActorTelemetry, records.get(`skyvox.telemetry.n1.${name}`)![0]);
      assert.equal(rec.node, 'n1');
      assert.equal(rec.actor, name);
    }
    const nodeRec = validate(NodeTelemetry, records.get('skyvox.telemetry.n1')![0]);
    assert.equal(nodeRec.actors, 4);
    assert.ok(nodeRec.rss_bytes > 0 && nodeRec.mem_total_bytes > 0);
  });

  it('names the field and the expectation in configuration errors', () => {
    assert.throws(() => parseNodeConfig({ name: 'n 1' }), (e: Error) => e instanceof ConfigError && /name: expected string to match '\^\[A-Za-z0-9_-\]\+\$', got "n 1"/.test(e.message));
    assert.throws(() => parseNodeConfig({ name: 'n1', telemetry: { rate_hz: 100 } }), /telemetry.rate_hz: expected number to be less or equal to 50, got 100/);
    assert.throws(() => parseNodeConfig({ name: 'n1', supervision: { strategy: 'all_for_none' } }), /supervision.strategy: expected one of one_for_one, one_for_all, rest_for_one, got "all_for_none"/);
    assert.throws(() => parseNodeConfig({ name: 'n1', actors: [{ name: 'x', kind: 'sink' }, { name: 'x', kind: 'sink' }] }), /actors\[1\].name: expected a unique name, "x" is used twice/);
    assert.throws(
      () => new NodeSupervisor({ config: parseNodeConfig({ name: 'n1', actors: [{ name: 'x', kind: 'warp-drive' }] }), bus: new Bus(nc, { receiver: 'n1' }), registry: registry() }),
      /kind "warp-drive" of actor "x" is not known; known kinds: sink/,
    );
    assert.throws(() => parseNodeConfig({ name: 'n1', cluster: { pipeline: { scenario: 'no-such-rig' } } }), /cluster\.pipeline\.scenario: .*no-such-rig/);
    assert.throws(() => parseNodeConfig({ name: 'n1', cluster: { pipeline: { scenario: 'quick', voxel_shards: 0 } } }), /cluster\.pipeline\.voxel_shards: expected integer to be greater or equal to 1, got 0/);
    assert.throws(() => parseNodeConfig({ name: 'n1', cluster: { actors: [{ name: 'tracker', kind: 'tracker' }], pipeline: { scenario: 'quick' } } }), /cluster\.actors: the name "tracker" is taken by cluster\.pipeline/);
  });

  it('expands cluster.pipeline into placed fusion, voxel shards and a watched tracker, once', () => {
    const config = parseNodeConfig({ name: 'n1', cluster: { replicas: 3, pipeline: { scenario: 'quick', voxel_shards: 2, tracker: { checkpoint_ms: 200 } } } });
    const actors = config.cluster!.actors;
    assert.deepEqual(actors.map((a) => a.name), ['fusion-p1', 'fusion-p2', 'voxel-1', 'voxel-2', 'tracker']);
    assert.deepEqual(actors.map((a) => (a.options?.shard as { index: number } | undefined)?.index), [undefined, undefined, 0, 1, undefined]);
    // The tracker knows the rig: a scan missing some pairs misses no track only they see.
    assert.deepEqual(actors.at(-1)!.options, { replicas: 3, checkpoint_ms: 200, scenario: 'quick' });
    assert.deepEqual(actors.at(-1)!.liveness, { input: 'skyvox.meas.shard.*', output: 'skyvox.tracks' });
    assert.deepEqual(actors[3]!.liveness, { input: 'skyvox.fused.*', output: 'skyvox.meas.shard.1' });
    assert.equal(actors[0]!.liveness?.output, 'skyvox.fused.p1');
    // Parsed again (as `skyvox node` does when it adds actors), nothing is added twice.
    assert.equal(parseNodeConfig({ ...config, actors: [] }).cluster!.actors.length, 5);
  });
});
