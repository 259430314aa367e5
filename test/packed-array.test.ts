import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compilerSettled } from '../cli/warm-up.js';
import { fromPacked, mapPacked } from '../util/packed-array.js';
import { REPO } from './helpers/cli.js';

describe('arrays that keep their shape for the JIT', () => {
  it('mapPacked and fromPacked give what map and Array.from give', () => {
    const a = [3, 1.5, -2];
    assert.deepEqual(mapPacked(a, (x, i) => x * i), a.map((x, i) => x * i));
    assert.deepEqual(fromPacked(4, (i) => i * i), Array.from({ length: 4 }, (_, i) => i * i));
    assert.deepEqual(mapPacked([], () => 1), []);
  });

  it('an optimized map returns a holey array where the helpers stay packed (why they exist)', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', join(REPO, 'test/fixtures/elements-kind.mjs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const kinds = JSON.parse(r.stdout) as Record<string, { interpreted: boolean; optimized: boolean; right: boolean }>;
    // The reason: consumers compiled on the packed arrays of the interpreted builder deopt
    // ("wrong map") when the optimized builder starts handing them holey ones.
    assert.deepEqual(kinds.map, { interpreted: false, optimized: true, right: true }, 'V8 no longer changes the kind of map\'s result when it optimizes: the helpers may go');
    for (const name of ['mapPacked', 'mapPackedNumbers', 'fromPacked']) assert.deepEqual(kinds[name], { interpreted: false, optimized: false, right: true }, name);
  });
});

describe('waiting for the background compiler to settle', function () {
  this.timeout(20_000);

  it('returns at once when the process\'s other threads are idle, and waits while one is busy', async () => {
    const idle = await compilerSettled(2000);
    assert.ok(idle < 1000, `idle process: waited ${Math.round(idle)} ms`);
    // A thread of this process burning a core stands for the compiler at work.
    const busy = new Worker('const t = Date.now(); while (Date.now() - t < 600) {}', { eval: true });
    await new Promise((r) => busy.once('online', r));
    const waited = await compilerSettled(5000);
    await busy.terminate();
    assert.ok(waited >= 300, `waited ${Math.round(waited)} ms while a thread was busy for 600 ms`);
    assert.ok(waited < 5000, 'stopped waiting once the thread was done');
  });
});
