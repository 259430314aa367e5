import assert from 'node:assert/strict';
import type { NatsConnection, Status } from '@nats-io/nats-core';
import { spawnSync } from 'node:child_process';
import { encode } from '../bus/codec.js';
import { REPO } from './helpers/cli.js';
import { connectBus } from '../bus/connection.js';
import { startTestNats, sleep, type TestNats, waitFor } from './helpers/nats.js';

/** Collects permission errors a connection reports asynchronously. */
function permissionErrors(nc: NatsConnection): string[] {
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status() as AsyncIterable<Status>) {
      if (s.type === 'error') errors.push(String((s as { error?: Error }).error?.message ?? ''));
    }
  })();
  return errors;
}

describe('nats.conf: least privilege', () => {
  let nats: TestNats;
  before(async () => {
    nats = await startTestNats();
  });
  after(() => nats.dispose());

  it('a viewer cannot publish to skyvox.ctl.>', async () => {
    const admin = await nats.connect('admin');
    const got: string[] = [];
    admin.subscribe('skyvox.ctl.>', { callback: (_e, m) => void got.push(m.subject) });
    await admin.flush();
    const viewer = await nats.connect('viewer');
    const errors = permissionErrors(viewer);
    viewer.publish('skyvox.ctl.node-a', encode({ cmd: 'stop' }));
    await viewer.flush().catch(() => {});
    await waitFor(() => errors.some((e) => /permissions violation for publish to "skyvox\.ctl\.node-a"/i.test(e)), 'the publish violation');
    // Positive control: the same subscription sees an admin's message, so silence above means refusal.
    admin.publish('skyvox.ctl.node-a', encode({ cmd: 'list' }));
    await waitFor(() => got.length === 1, 'the admin message');
    assert.deepEqual(got, ['skyvox.ctl.node-a']);
  });

  it('a viewer cannot subscribe to skyvox.det.>', async () => {
    const viewer = await nats.connect('viewer');
    const sub = viewer.subscribe('skyvox.det.>');
    const closed = await Promise.race([sub.closed, sleep(3000).then(() => 'still open' as const)]);
    assert.ok(closed instanceof Error, `expected the subscription to be refused, got ${String(closed)}`);
    assert.match(closed.message, /permissions violation for subscription to "skyvox\.det\.>"/i);
  });

  it('a viewer reads tracks, track events and telemetry', async () => {
    const viewer = await nats.connect('viewer');
    const node = await nats.connect('node');
    const got: string[] = [];
    for (const s of ['skyvox.tracks', 'skyvox.track.events', 'skyvox.telemetry.>']) viewer.subscribe(s, { callback: (_e, m) => void got.push(m.subject) });
    await viewer.flush();
    for (const s of ['skyvox.tracks', 'skyvox.track.events', 'skyvox.telemetry.n1.tracker', 'skyvox.telemetry.n1']) node.publish(s, encode({}));
    await waitFor(() => got.length === 4, 'four messages');
    assert.deepEqual(got.sort(), ['skyvox.telemetry.n1', 'skyvox.telemetry.n1.tracker', 'skyvox.track.events', 'skyvox.tracks']);
  });

  it('a node may not publish outside the prefix', async () => {
    const node = await nats.connect('node');
    const errors = permissionErrors(node);
    node.publish('elsewhere.thing', encode({}));
    await node.flush().catch(() => {});
    await waitFor(() => errors.some((e) => /permissions violation for publish to "elsewhere\.thing"/i.test(e)), 'the violation');
  });

  it('the websocket listener (for browser viewers) serves the same users', () => {
    // Node 20 has WebSocket only behind a flag, so the browser-like client runs in a child.
    const script = `
      import { wsconnect } from '@nats-io/nats-core';
      const nc = await wsconnect({ servers: process.env.WS, user: 'viewer', pass: process.env.PASS });
      nc.subscribe('skyvox.tracks'); await nc.flush(); await nc.close();
      try { await wsconnect({ servers: process.env.WS, user: 'viewer', pass: 'svwrongwrongwrong' }); console.log('accepted a wrong password'); }
      catch (e) { console.log('refused: ' + e.message); }`;
    const res = spawnSync(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, WS: nats.server.wsUrl, PASS: nats.server.credentials.viewer },
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'refused: Authorization Violation');
  });

  it('a wrong password is refused', async () => {
    await assert.rejects(connectBus({ servers: nats.server.url, user: 'viewer', pass: 'svwrongwrongwrong', reconnect: false }), /could not connect to NATS at .*: .*(authorization|auth)/i);
  });
});
