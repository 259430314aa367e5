import assert from 'node:assert/strict';
import { epochClock } from '../supervisors/clock.js';

/** A wall clock and a monotonic one that the test moves; `wallRate` is the wall's speed against the monotonic clock. */
function clocks(wallRate: number) {
  let mono = 1_000_000_000n; // ns
  let wall = 1_800_000_000_000; // ms, fractional
  return {
    wallMs: () => Math.floor(wall),
    monotonicNs: () => mono,
    advance(ns: number) {
      mono += BigInt(ns);
      wall += (ns / 1e6) * wallRate;
    },
    step(ms: number) {
      wall += ms;
    },
    wallNs: () => wall * 1e6,
  };
}

describe('epoch clock', () => {
  it('keeps to a wall clock that runs 0.5 % faster than the monotonic one, never repeating a value', () => {
    const c = clocks(1.005);
    const now = epochClock(c.wallMs, c.monotonicNs);
    let last = now();
    let worst = 0;
    for (let i = 0; i < 60_000; i++) {
      c.advance(1_000_000); // 1 ms, for 60 s
      const t = now();
      assert.ok(t > last, `went from ${last} to ${t}`);
      last = t;
      worst = Math.max(worst, Math.abs(Number(t) - c.wallNs()));
    }
    // Anchored once it would be 300 ms behind by now.
    // Within the correction threshold (1 ms), the wall clock's whole milliseconds (0.5) and what it gains between checks (0.5).
    assert.ok(worst < 2.05e6, `${worst / 1e6} ms from the wall clock at worst`);
  });

  it('follows a wall clock stepped forward at once, and one stepped back by slowing, never running backwards', () => {
    const c = clocks(1);
    const now = epochClock(c.wallMs, c.monotonicNs);
    c.advance(200_000_000);
    c.step(30);
    c.advance(100_000_000);
    assert.ok(Math.abs(Number(now()) - c.wallNs()) < 1e6, 'a step forward is taken at the next check');
    c.step(-50);
    let last = now();
    const from = Number(last);
    for (let i = 0; i < 400; i++) {
      c.advance(1_000_000);
      const t = now();
      assert.ok(t > last, 'never backwards');
      last = t;
    }
    // 400 ms passed: it ran at half speed or more meanwhile, and is back on the wall clock.
    assert.ok(Number(last) - from >= 200e6, `advanced ${(Number(last) - from) / 1e6} ms in 400 ms`);
    assert.ok(Math.abs(Number(last) - c.wallNs()) < 1.6e6, `${(Number(last) - c.wallNs()) / 1e6} ms from the wall clock`);
  });
});
