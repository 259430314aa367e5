import assert from 'node:assert/strict';
import { ClockSync } from '../bus/clock-sync.js';
import { Rng } from '../sim/rng.js';

describe('clock sync estimator', () => {
  it('recovers offset and drift from four-stamp exchanges, ignoring delayed ones', () => {
    const rng = new Rng(12);
    const offsetNs = -4_200_000; // site − local
    const drift = 25e-6;
    const local0 = 1_700_000_000_000_000_000n;
    const sync = new ClockSync();
    const site = (local: bigint) => local + BigInt(Math.round(offsetNs + drift * Number(local - local0)));
    for (let i = 0; i < 60; i++) {
      const t1 = local0 + BigInt(i) * 1_000_000_000n;
      // one-way delays of 50–150 µs; every fifth exchange queued 3 ms on the way back
      const up = 50_000 + rng.next() * 100_000;
      const down = 50_000 + rng.next() * 100_000 + (i % 5 === 0 ? 3_000_000 : 0);
      const t2 = site(t1) + BigInt(Math.round(up));
      const t3 = t2 + 20_000n;
      const t4 = t1 + BigInt(Math.round(up + 20_000 + down));
      sync.add(t1, t2, t3, t4);
    }
    const at = local0 + 60_000_000_000n;
    const est = sync.estimate(at)!;
    const truth = offsetNs + drift * Number(at - local0);
    assert.ok(Math.abs(est.offsetNs - truth) < 100_000, `offset ${est.offsetNs} vs ${truth} ns`);
    assert.ok(Math.abs(est.drift - drift) < 3e-6, `drift ${est.drift}`);
    assert.ok(Math.abs(Number(sync.toSite(at) - site(at))) < 100_000);
  });

  it('leaves times alone until the first exchange', () => {
    const sync = new ClockSync();
    assert.equal(sync.synced, false);
    assert.equal(sync.toSite(123n), 123n);
  });
});
