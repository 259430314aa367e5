import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/nats-core';
import { Type } from '@sinclair/typebox';
import { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { ensureKv, ensureStream } from '../bus/jetstream.js';
import { subjectMatches } from '../bus/subjects.js';
import { DeadLetter } from '../schemas/dead-letter.js';
import { defineMessage, InvalidMessageError, TimeNs, validate } from '../schemas/message.js';
import { Actor } from '../supervisors/actor.js';
import { startTestNats, type TestNats, waitFor } from './helpers/nats.js';

const Sample = defineMessage('Sample', Type.Object({ t_ns: TimeNs(), cam: Type.String(), snr: Type.Number({ minimum: 0 }) }));

describe('bus over a real nats-server', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let bus: Bus;
  before(async () => {
    nats = await startTestNats();
    nc = await nats.connect('node');
    bus = new Bus(nc, { receiver: 'test-node' });
  });
  after(() => nats.dispose());

  it('delivers valid typed messages to the handler', async () => {
    const got: unknown[] = [];
    const sub = bus.subscribe(Sample, 'skyvox.det.cam1', (v) => got.push(v));
    bus.publish(Sample, 'skyvox.det.cam1', { t_ns: 1_795_000_000_000_000_001n, cam: 'cam1', snr: 12.5 });
    await waitFor(() => got.length === 1, 'the message');
    assert.deepEqual(got[0], { t_ns: 1_795_000_000_000_000_001n, cam: 'cam1', snr: 12.5 });
    sub.unsubscribe();
  });

  it('subjectMatches says what the server delivers to a pattern', async () => {
    const patterns = ['skyvox.fused.*', 'skyvox.fused.p1', 'skyvox.>', 'skyvox.*.p1', 'skyvox.meas', 'skyvox.meas.shard.*'];
    const subjects = ['skyvox.fused.p1', 'skyvox.fused.p2', 'skyvox.fused', 'skyvox.meas', 'skyvox.meas.shard.0', 'skyvox.det.p1', 'skyvox.fused.p1.x'];
    const got = new Map(patterns.map((p) => [p, new Set<string>()]));
    const subs = patterns.map((p) => nc.subscribe(p, { callback: (_e, m) => void got.get(p)!.add(m.subject) }));
    for (const subject of subjects) nc.publish(subject, new Uint8Array(0));
    nc.publish('skyvox.done', new Uint8Array(0));
    await waitFor(() => got.get('skyvox.>')!.has('skyvox.done'), 'the last message');
    for (const p of patterns) assert.deepEqual([...got.get(p)!].filter((x) => x !== 'skyvox.done').sort(), subjects.filter((x) => subjectMatches(p, x)).sort(), p);
    subs.forEach((x) => x.unsubscribe());
    // A pattern covers another when it matches every subject the other does.
    assert.ok(subjectMatches('skyvox.fused.*', 'skyvox.fused.p1') && !subjectMatches('skyvox.fused.p1', 'skyvox.fused.*'));
    assert.ok(subjectMatches('skyvox.>', 'skyvox.meas.shard.*') && !subjectMatches('skyvox.*', 'skyvox.>'));
  });

  it('refuses to publish an invalid message, naming the field', () => {
    assert.throws(
      () => bus.publish(Sample, 'skyvox.det.cam1', { t_ns: 1n, cam: 'cam1', snr: -1 }),
      (err: Error) => err instanceof InvalidMessageError && /snr: expected number to be greater or equal to 0, got -1/.test(err.message),
    );
  });

  it('encodes a message once for several subjects, refusing an invalid one as publish does', async () => {
    const got: { subject: string; value: unknown }[] = [];
    const sub = bus.subscribe(Sample, 'skyvox.once.*', (v, m) => got.push({ subject: m.subject, value: v }));
    const value = { t_ns: 1_795_000_000_000_000_002n, cam: 'cam2', snr: 3 };
    const message = bus.encode(Sample, value);
    assert.deepEqual(message.bytes, encode(value));
    bus.publishEncoded('skyvox.once.a', message);
    bus.publishEncoded('skyvox.once.b', message);
    await waitFor(() => got.length === 2, 'both copies');
    assert.deepEqual(got.map((g) => g.subject).sort(), ['skyvox.once.a', 'skyvox.once.b']);
    for (const g of got) assert.deepEqual(g.value, value);
    assert.throws(() => bus.encode(Sample, { ...value, snr: -1 }), InvalidMessageError);
    sub.unsubscribe();
  });

  it('dead-letters invalid and undecodable messages with reason and bytes, counts them, and keeps handling', async () => {
    const dead: { subject: string; reason: string; bytes: Uint8Array; receiver: string }[] = [];
    const deadSub = nc.subscribe("skyvox.dead", { callback: (_e, m) => void dead.push(validate(DeadLetter, decode(m.data))) });
    const handled: unknown[] = [];
    const receiver = bus.forReceiver('node-a/det');
    const sub = receiver.subscribe(Sample, 'skyvox.det.cam2', (v) => handled.push(v));
    await nc.flush();
    const wrongType = encode({ t_ns: 5n, cam: 'cam2', snr: 'high' });
    const missing = encode({ cam: 'cam2', snr: 1 });
    const garbage = new Uint8Array([0xc1, 0xff, 0x00]);
    nc.publish('skyvox.det.cam2', wrongType);
    nc.publish('skyvox.det.cam2', missing);
    nc.publish('skyvox.det.cam2', garbage);
    nc.publish('skyvox.det.cam2', wrongType);
    nc.publish('skyvox.det.cam2', encode({ t_ns: 6n, cam: 'cam2', snr: 3 }));
    await waitFor(() => dead.length === 4 && handled.length === 1, 'dead letters and the valid message');
    const typeReason = 'invalid Sample: snr: expected number, got "high"';
    assert.equal(dead[0]!.reason, typeReason);
    assert.equal(dead[1]!.reason, 'invalid Sample: t_ns: expected required property, got nothing');
    assert.equal(dead[3]!.reason, typeReason);
    assert.match(dead[2]!.reason, /^undecodable MessagePack/);
    assert.deepEqual(Array.from(dead[0]!.bytes), Array.from(wrongType), 'the original bytes travel unchanged');
    assert.deepEqual(Array.from(dead[2]!.bytes), Array.from(garbage));
    assert.ok(dead.every((d) => d.subject === 'skyvox.det.cam2' && d.receiver === 'node-a/det'));
    assert.equal(receiver.stats.invalid, 4);
    assert.equal(receiver.stats.byReason.size, 3);
    sub.unsubscribe();
    deadSub.unsubscribe();
  });

  it('an actor keeps running through invalid input and counts it', async () => {
    const handled: number[] = [];
    const actor = new Actor<number>({
      name: 'snr-sink',
      kind: 'test',
      bus,
      behavior: {
        start: (ctx) => void ctx.subscribe(Sample, 'skyvox.det.cam3', (v) => v.snr),
        handle: (snr) => void handled.push(snr),
      },
    });
    await actor.start();
    await nc.flush();
    nc.publish('skyvox.det.cam3', encode({ nonsense: true }));
    nc.publish('skyvox.det.cam3', new Uint8Array([0x92]));
    nc.publish('skyvox.det.cam3', encode({ t_ns: 1n, cam: 'cam3', snr: 7 }));
    await waitFor(() => handled.length === 1, 'the valid message');
    assert.equal(actor.status, 'running');
    assert.equal(actor.stats.invalid, 2);
    assert.deepEqual(handled, [7]);
    await actor.stop();
  });

  it('accepts a 64-bit time that another language sent as a small plain integer', () => {
    const v = validate(Sample, decode(encode({ t_ns: 12345, cam: 'c', snr: 1 })));
    assert.equal(v.t_ns, 12345n);
  });

  it('converts nothing else: a number as text or a fraction for an integer is refused, naming the field', () => {
    const Counted = defineMessage('Counted', Type.Object({ t_ns: TimeNs(), n: Type.Integer(), ts: Type.Array(TimeNs()), snr: Type.Number() }));
    assert.deepEqual(validate(Counted, { t_ns: 1, n: 2, ts: [3, 4n], snr: 0.5 }), { t_ns: 1n, n: 2, ts: [3n, 4n], snr: 0.5 });
    assert.throws(() => validate(Counted, { t_ns: 1n, n: 2, ts: [], snr: '12' }), /invalid Counted: snr: expected number, got "12"/);
    assert.throws(() => validate(Counted, { t_ns: 1, n: 2.5, ts: [], snr: 1 }), /invalid Counted: n: expected integer, got 2.5/);
    assert.throws(() => validate(Counted, { t_ns: 1.5, n: 2, ts: [], snr: 1 }), /invalid Counted: t_ns: expected bigint, got 1.5/);
    assert.throws(() => validate(Counted, { t_ns: 1n, n: 2, ts: ['7'], snr: 1 }), /invalid Counted: ts\[0\]: expected bigint, got "7"/);
  });

  it('typed request/reply answers invalid requests with an error instead of silence', async () => {
    const Req = defineMessage('Req', Type.Object({ x: Type.Integer() }));
    const Rep = defineMessage('Rep', Type.Object({ ok: Type.Boolean(), y: Type.Optional(Type.Integer()), why: Type.Optional(Type.String()) }));
    const sub = bus.serve(Req, Rep, 'skyvox.test.double', (r) => ({ ok: true, y: r.x * 2 }), (why) => ({ ok: false, why }));
    assert.deepEqual(await bus.request(Req, Rep, 'skyvox.test.double', { x: 21 }), { ok: true, y: 42 });
    const raw = await nc.request('skyvox.test.double', encode({ x: 'nope' }), { timeout: 2000 });
    assert.deepEqual(decode(raw.data), { ok: false, why: 'invalid Req: x: expected integer, got "nope"' });
    sub.unsubscribe();
  });

  it('declares streams and KV buckets idempotently', async () => {
    const decl = { name: 'SKYVOX_TEST', subjects: ['skyvox.test.stream.>'], max_msgs: 100 };
    const a = await ensureStream(nc, decl);
    const b = await ensureStream(nc, decl);
    assert.equal(a.config.name, b.config.name);
    assert.equal(b.config.max_msgs, 100);
    const c = await ensureStream(nc, { ...decl, max_msgs: 200 });
    assert.equal(c.config.max_msgs, 200, 'a changed declaration updates the stream');
    const kv1 = await ensureKv(nc, 'skyvox_test', { history: 2 });
    await kv1.put('k', 'v1');
    const kv2 = await ensureKv(nc, 'skyvox_test', { history: 2 });
    assert.equal((await kv2.get('k'))?.string(), 'v1', 'the second declaration opens the same bucket');
  });
});
