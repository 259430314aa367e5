import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Bus } from '../bus/bus.js';
import { decode, encode } from '../bus/codec.js';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { ActorRegistry } from '../supervisors/registry.js';
import { REPO } from './helpers/cli.js';
import { startTestNats, type TestNats, waitFor } from './helpers/nats.js';

const PYTHON = '/usr/bin/python3';

/** The same canonical form the Python side prints. */
function canonical(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { int: BigInt(v).toString() } : { float: v };
  if (v instanceof Uint8Array) return { bin: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(canonical);
  return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, canonical(x)]));
}

const floatsAsNumbers = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(floatsAsNumbers) : v && typeof v === 'object' ? ('float' in v ? { float: Number((v as { float: string }).float) } : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, floatsAsNumbers(x)]))) : v;

describe('other languages decode every subject (Python stock msgpack)', function () {
  let nats: TestNats;
  before(async function () {
    if (spawnSync(PYTHON, ['-c', 'import msgpack']).status !== 0) {
      // CI installs python3-msgpack (.ci/run); a bare developer machine may not have it.
      this.skip();
    }
    nats = await startTestNats();
  });
  after(() => nats?.dispose());

  it('telemetry, control replies and dead letters decode identically in Python', async () => {
    const nc = await nats.connect('admin');
    const payloads: { subject: string; data: Uint8Array }[] = [];
    const want = new Set(['skyvox.telemetry.py.telemetry', 'skyvox.telemetry.py.ctl', 'skyvox.telemetry.py', 'skyvox.dead']);
    nc.subscribe('skyvox.>', {
      callback: (_e, m) => {
        if (want.has(m.subject) && !payloads.some((p) => p.subject === m.subject)) payloads.push({ subject: m.subject, data: m.data });
      },
    });
    await nc.flush();
    const node = new NodeSupervisor({
      config: parseNodeConfig({ name: 'py', telemetry: { rate_hz: 20 } }),
      bus: new Bus(await nats.connect('node'), { receiver: 'py' }),
      registry: new ActorRegistry(),
    });
    await node.start();
    const reply = await nc.request('skyvox.ctl.py', encode({ cmd: 'list' }), { timeout: 2000 });
    payloads.push({ subject: 'reply to skyvox.ctl.py', data: reply.data });
    await nc.request('skyvox.ctl.py', new Uint8Array([0x81, 0xa1]), { timeout: 2000 }); // truncated map → dead letter
    await waitFor(() => payloads.length === want.size + 1, 'one payload of each subject');
    await node.stop();

    const input = payloads.map((p) => JSON.stringify({ subject: p.subject, hex: Buffer.from(p.data).toString('hex') })).join('\n');
    const py = spawnSync(PYTHON, [join(REPO, 'test/fixtures/decode_msgpack.py')], { input, encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const decoded = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as { subject: string; value: unknown });
    assert.equal(decoded.length, payloads.length);
    for (const [i, p] of payloads.entries()) {
      assert.equal(decoded[i]!.subject, p.subject);
      assert.deepEqual(floatsAsNumbers(decoded[i]!.value), canonical(decode(p.data)), p.subject);
    }
    const telemetry = decoded.find((d) => d.subject === 'skyvox.telemetry.py.ctl')!.value as Record<string, { int: string }>;
    assert.ok(BigInt(telemetry.t_ns!.int) > 1_700_000_000_000_000_000n, 't_ns reaches Python as an exact 64-bit integer');
  });
});
