import assert from 'node:assert/strict';
import { FramesetAssembler } from '../frames/frameset.js';
import { Rng } from '../sim/rng.js';

describe('framesets', () => {
  it('groups views by time, emits in order, counts missing and late views, and goes on without them', () => {
    const cams = ['a', 'b', 'c', 'd'];
    const asm = new FramesetAssembler<number>({ cameras: cams, toleranceNs: 5_000_000n, maxWaitMs: 60 });
    const rng = new Rng(8);
    const period = 33_333_333n;
    const sets: { t: bigint; n: number; missing: string[] }[] = [];
    let now = 0;
    let dropped = 0;
    let delayed: { cam: string; t: bigint; at: number }[] = [];
    for (let k = 0; k < 300; k++) {
      now = k * 33.3;
      // a camera whose view is held back 200 ms arrives after its set left: late
      for (const d of delayed.filter((x) => x.at <= now)) for (const s of asm.add(d.cam, d.t, -1, now)) sets.push({ t: s.t_ns, n: s.views.size, missing: s.missing });
      delayed = delayed.filter((x) => x.at > now);
      for (const cam of cams) {
        const t = BigInt(k) * period + BigInt(Math.round(rng.normal() * 300_000)); // ±0.3 ms
        if (rng.next() < 0.05) {
          dropped++;
          continue;
        }
        if (cam === 'd' && k % 50 === 7) {
          delayed.push({ cam, t, at: now + 200 });
          continue;
        }
        for (const s of asm.add(cam, t, k, now + rng.next() * 5)) sets.push({ t: s.t_ns, n: s.views.size, missing: s.missing });
      }
    }
    for (const s of asm.flush()) sets.push({ t: s.t_ns, n: s.views.size, missing: s.missing });
    assert.equal(sets.length, 300, 'one set per instant');
    assert.ok(sets.every((s, i) => i === 0 || s.t > sets[i - 1]!.t), 'in time order');
    assert.equal(asm.stats.missing, dropped + 6, 'every dropped or late view is missing from its set');
    assert.equal(asm.stats.late, 6);
    assert.deepEqual([asm.takeLost(), asm.takeLost()], [6, 0], 'lost views are handed over once');
    assert.equal(asm.stats.complete, sets.filter((s) => s.n === 4).length);
    assert.ok(sets.every((s) => s.n + s.missing.length === 4));
  });

  it('a set missing a view goes out once that camera\'s next view has come, not after the whole wait', () => {
    // Camera b drops its frame of instant 1: its view of instant 2 proves it, as one camera's
    // views arrive in order, so set 1 leaves then, 33 ms later, rather than 500 ms later.
    const asm = new FramesetAssembler<string>({ cameras: ['a', 'b', 'c'], toleranceNs: 1_000_000n, maxWaitMs: 500 });
    const period = 33_000_000n;
    const out: { t: bigint; at: number; missing: string[] }[] = [];
    const add = (cam: string, k: number, at: number) => asm.add(cam, BigInt(k) * period, cam, at).forEach((s) => out.push({ t: s.t_ns, at, missing: s.missing }));
    for (const cam of ['a', 'b', 'c']) add(cam, 0, 1);
    add('a', 1, 34);
    add('c', 1, 35);
    assert.equal(out.length, 1, 'set 1 waits while b may still come');
    add('a', 2, 67);
    assert.equal(out.length, 1, "a's next view says nothing about b");
    add('b', 2, 68);
    assert.deepEqual(out[1], { t: period, at: 68, missing: ['b'] });
    add('c', 2, 69);
    assert.deepEqual(out.map((s) => s.t), [0n, period, 2n * period]);
    assert.equal(asm.stats.missing, 1);
  });

  it('counts views from unknown cameras and duplicates', () => {
    const asm = new FramesetAssembler<string>({ cameras: ['a', 'b'], toleranceNs: 1000n, maxWaitMs: 10 });
    assert.deepEqual(asm.add('zz', 5n, 'x', 0), []);
    asm.add('a', 100n, 'x', 0);
    asm.add('a', 150n, 'y', 0);
    const [set] = asm.add('b', 120n, 'z', 1);
    assert.deepEqual([...set!.views.keys()], ['a', 'b']);
    assert.equal(set!.t_ns, 110n);
    assert.deepEqual([asm.stats.unknown, asm.stats.duplicate], [1, 1]);
  });

  it('with a primary camera, views wait for the primary view however late it comes; without it they are unpaired', () => {
    // Thermal views arrive at once, mono views 300 ms later (five times the wait): every mono
    // frame still meets its thermal twin. Mono frame 10 never comes (dropped upstream).
    const asm = new FramesetAssembler<string>({ cameras: ['mono', 'ir'], primary: 'mono', toleranceNs: 5_000_000n, maxWaitMs: 60, holdMs: 1000 });
    const period = 33_333_333n;
    const sets: { t: bigint; views: string[] }[] = [];
    const take = (out: ReturnType<typeof asm.add>) => out.forEach((s) => sets.push({ t: s.t_ns, views: [...s.views.keys()].sort() }));
    for (let ms = 0; ms <= 2300; ms++) {
      if (ms % 100 === 0 && ms / 100 < 20) take(asm.add('ir', (BigInt(ms) * period) / 100n, 'ir', ms)); // one every 100 ms here
      const k = (ms - 300) / 100;
      if (Number.isInteger(k) && k >= 0 && k < 20 && k !== 10) take(asm.add('mono', BigInt(k) * period + 1_000_000n, 'mono', ms));
      take(asm.poll(ms));
    }
    take(asm.flush());
    assert.equal(sets.length, 19, 'a set per mono frame, none for the thermal view alone');
    assert.ok(sets.every((s) => s.views.join() === 'ir,mono'), 'every mono frame met its thermal twin');
    assert.ok(sets.every((s, i) => i === 0 || s.t > sets[i - 1]!.t), 'in time order');
    assert.deepEqual([asm.stats.late, asm.stats.unpaired, asm.stats.missing], [0, 1, 0], "frame 10's thermal view is unpaired");

    // A thermal view whose mono view never comes and is not superseded leaves after holdMs, counted.
    const lone = new FramesetAssembler<string>({ cameras: ['mono', 'ir'], primary: 'mono', toleranceNs: 1000n, maxWaitMs: 10, holdMs: 500 });
    lone.add('ir', 100n, 'ir', 0);
    assert.deepEqual(lone.poll(499), []);
    assert.equal(lone.stats.unpaired, 0);
    assert.deepEqual(lone.poll(500), []);
    assert.equal(lone.stats.unpaired, 1);
    // A mono view alone waits maxWaitMs for its twin, then goes out without it.
    lone.add('mono', 5000n, 'mono', 600);
    assert.deepEqual(lone.poll(609), []);
    const [alone] = lone.poll(610);
    assert.deepEqual([...alone!.views.keys()], ['mono']);
    assert.deepEqual(alone!.missing, ['ir']);
    assert.throws(() => new FramesetAssembler({ cameras: ['a'], primary: 'b', toleranceNs: 1n, maxWaitMs: 1 }), /primary camera b among the cameras a/);
  });

  it('names a camera whose clock is out of step — its views at about the same offset from every instant, in the set or missing it — not one that drops frames, nor the rest', () => {
    const ms = 1_000_000n;
    const run = (cams: string[], skewMs: Map<string, number>, drop: (cam: string, k: number) => boolean, primary?: string) => {
      const sets = new FramesetAssembler<number>({ cameras: cams, toleranceNs: 10n * ms, maxWaitMs: 60, primary });
      let now = 0;
      for (let k = 0; k < 200; k++) {
        now = k * 40;
        for (const c of cams) if (!drop(c, k)) sets.add(c, BigInt(k * 40) * ms + BigInt(Math.round((skewMs.get(c) ?? 0) * 1e6)), k, now);
        sets.poll(now);
      }
      sets.poll(now + 1000);
      return sets.skewed();
    };
    const four = ['a', 'b', 'c', 'd'];
    const off = run(four, new Map([['d', 25]]), () => false);
    assert.deepEqual(off.map((s) => s.cam), ['d'], JSON.stringify(off));
    // Its nearest view to each missed instant: 15 ms before it (the frame period is 40 ms).
    assert.equal(off[0]!.offset_ms, -15);
    assert.ok(off[0]!.share > 0.9);
    // Within the tolerance its views join the instants, off by that much: named beyond half the tolerance.
    assert.deepEqual(run(four, new Map([['d', 7]]), () => false).map((s) => [s.cam, s.offset_ms]), [['d', 7]]);
    assert.deepEqual(run(four, new Map([['d', 3], ['a', -2]]), () => false), [], 'within half the tolerance: in step');
    assert.deepEqual(run(four, new Map(), (c, k) => c === 'd' && k % 5 === 0), [], 'a camera dropping a frame in five is not out of step');
    // A camera whose frames come late, four in five (a starved link): the nearest views to the
    // instants it misses are its neighbouring frames, a frame period off — not a clock.
    const late = (skew: number) => {
      const sets = new FramesetAssembler<number>({ cameras: four, toleranceNs: 10n * ms, maxWaitMs: 60 });
      const t = (k: number, c: string) => BigInt(k * 40) * ms + (c === 'd' ? BigInt(skew) * ms : 0n);
      for (let k = 0; k < 200; k++) {
        const now = k * 40;
        for (const c of four) if (c !== 'd' || k % 5 === 0) sets.add(c, t(k, c), k, now);
        if (k >= 2 && (k - 2) % 5 !== 0) sets.add('d', t(k - 2, 'd'), k - 2, now);
        sets.poll(now);
      }
      assert.ok(sets.stats.late > 50, `${sets.stats.late} views late`);
      return sets.skewed().map((s) => [s.cam, s.offset_ms]);
    };
    assert.deepEqual(late(0), [], 'a camera whose frames come late is not out of step');
    assert.deepEqual(late(25), [['d', -15]], 'one out of step whose frames come late is named');
    // A pair: the thermal view out of step with the mono (primary) one.
    const pair = run(['m', 't'], new Map([['t', 18]]), () => false, 'm');
    assert.deepEqual(pair.map((s) => [s.cam, s.offset_ms]), [['t', 18]]);
  });
});

