import assert from 'node:assert/strict';
import { MESSAGE_TYPES } from '../schemas/index.js';
import { toJsonSchema, validate } from '../schemas/message.js';
import { Measurements, RAY_STRIDE } from '../schemas/measurement.js';
import { f64ToBin } from '../bus/codec.js';
import { skyvoxRun } from './helpers/cli.js';
import { tracksFence } from '../schemas/tracks.js';

describe('JSON Schema export', () => {
  it('describes every message type in plain JSON Schema types, uint64 and bin marked for MessagePack', () => {
    for (const type of MESSAGE_TYPES) {
      const schema = toJsonSchema(type);
      const text = JSON.stringify(schema);
      assert.ok(!/"type":"(bigint|Uint8Array)"/.test(text), `${type.name} leaks a TypeBox-only type`);
      assert.equal(schema.title, type.name);
      assert.equal(schema.type, 'object');
    }
    const dead = toJsonSchema(MESSAGE_TYPES.find((t) => t.name === 'DeadLetter')!) as { properties: Record<string, Record<string, unknown>> };
    assert.deepEqual([dead.properties.t_ns!.type, dead.properties.t_ns!['x-msgpack']], ['integer', 'uint64']);
    assert.deepEqual([dead.properties.bytes!.type, dead.properties.bytes!['x-msgpack']], ['string', 'bin']);
  });

  it('`skyvox schema NAME` prints one schema; an unknown name is a usage error', async () => {
    const ok = await skyvoxRun(['schema', 'ActorTelemetry']);
    assert.equal(ok.code, 0);
    assert.ok('latency_ms' in (JSON.parse(ok.stdout) as { properties: object }).properties);
    const bad = await skyvoxRun(['schema', 'Nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected a message type \(DeadLetter, ActorTelemetry, .*\) but received "Nope"/);
  });

  it('Measurements carry single rays beside the points, their byte length checked against ray_count', () => {
    const base = { t_ns: 1n, count: 0, pairs: ['p1'], points: f64ToBin([]) };
    const ray = [0, 0, 3, 0.6, 0.8, 0, 1e-8, 1];
    assert.equal(ray.length, RAY_STRIDE);
    validate(Measurements, { ...base, ray_count: 1, rays: f64ToBin(ray) });
    validate(Measurements, base);
    assert.throws(() => validate(Measurements, { ...base, ray_count: 2, rays: f64ToBin(ray) }), /rays: expected 128 bytes \(ray_count 2 × 8 f64\), got 64/);
  });
});

describe('tracks fence', () => {
  it('drops an older incarnation\'s scans while the newest speaks; hears any once the newest has been silent', () => {
    let t = 0;
    const fresh = tracksFence(2000, () => t);
    const heard = (epoch: bigint | undefined, at: number) => ((t = at), fresh({ epoch }));
    assert.deepEqual([heard(10n, 0), heard(10n, 40), heard(20n, 80), heard(10n, 120), heard(20n, 160), heard(10n, 1000)], [true, true, true, false, true, false]);
    assert.equal(heard(undefined, 1100), true, 'a scan without an epoch (an older recording) is never dropped');
    // The newest went silent 2 s ago (its node died): a placement stamped by a clock running behind is heard.
    assert.equal(heard(15n, 2161), true);
    assert.equal(heard(20n, 2200), true, 'and a newer one again after it');
    assert.equal(heard(15n, 2240), false);
  });
});
