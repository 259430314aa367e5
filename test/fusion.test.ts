import assert from 'node:assert/strict';
import { binToF32 } from '../bus/codec.js';
import { fuse } from '../actors/fusion/fuse.js';
import { pairMapping } from '../geometry/pair.js';
import { FUSED_SOURCE, FUSED_STRIDE } from '../schemas/fused.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

describe('fusion of a mono/thermal pair', () => {
  it('maps thermal pixels into the mono image through the pair rotation', () => {
    const sim = new Simulator(loadScenario('quick'), 0n);
    const [mono, thermal] = [sim.cameras.find((c) => c.id === 'p1-mono')!, sim.cameras.find((c) => c.id === 'p1-ir')!];
    const map = pairMapping(mono.model, thermal.model);
    // A point 2 km away: its thermal pixel maps to its mono pixel up to the tiny parallax.
    const p: [number, number, number] = [40, 1700, 300];
    const [ut, vt] = thermal.model.project(p)!;
    const [um, vm] = mono.model.project(p)!;
    const [u, v] = map.toMono(ut, vt)!;
    assert.ok(Math.hypot(u - um, v - vm) <= map.parallaxPx(2000) + 1e-6, `${u},${v} vs ${um},${vm}`);
    assert.ok(map.parallaxPx(100) > map.parallaxPx(2000));
  });

  it('confirms targets both bands see, leaves glints and noise unconfirmed, and keeps them all', () => {
    // quick in detection mode, with plenty of glints (mono only) to be rejected.
    const raw = JSON.parse(JSON.stringify(loadScenario('quick')));
    const scenario = parseScenario({ ...raw, mode: 'detections', clutter: { ...raw.clutter, glints: { rate_hz: 10 } } });
    const sim = new Simulator(scenario, 0n);
    const [mono, thermal] = [sim.cameras.find((c) => c.id === 'p1-mono')!, sim.cameras.find((c) => c.id === 'p1-ir')!];
    const map = pairMapping(mono.model, thermal.model);
    let [targetsBoth, targetsConfirmed, falseTotal, falseConfirmed, kept, input] = [0, 0, 0, 0, 0, 0];
    for (let k = 0; k < 250; k++) {
      const a = sim.detections(mono, k)!;
      const b = sim.detections(thermal, k)!;
      const fused = fuse('p1', a.frame, b.frame, map);
      const f = binToF32(fused.blobs);
      input += a.frame.count;
      for (let i = 0; i < a.frame.count; i++) {
        const confirmed = f[i * FUSED_STRIDE + 10] === FUSED_SOURCE.both;
        kept++;
        const src = a.sources[i];
        if (src === undefined) {
          falseTotal++;
          if (confirmed) falseConfirmed++;
        } else if (b.sources.includes(src)) {
          targetsBoth++;
          if (confirmed) targetsConfirmed++;
        }
      }
    }
    assert.equal(kept, input, 'no mono detection is dropped');
    assert.ok(targetsBoth > 200 && falseTotal > 50, `enough of both (${targetsBoth} targets, ${falseTotal} false alarms)`);
    assert.ok(targetsConfirmed / targetsBoth > 0.95, `targets confirmed: ${targetsConfirmed}/${targetsBoth}`);
    assert.ok(falseConfirmed / falseTotal < 0.05, `false alarms confirmed: ${falseConfirmed}/${falseTotal}`);
  });

  it('with no thermal frame, nothing is confirmed and nothing is lost', () => {
    const sim = new Simulator(loadScenario('quick'), 0n);
    const [mono, thermal] = [sim.cameras.find((c) => c.id === 'p1-mono')!, sim.cameras.find((c) => c.id === 'p1-ir')!];
    const a = sim.detections(mono, 3)!;
    const fused = fuse('p1', a.frame, undefined, pairMapping(mono.model, thermal.model));
    assert.equal(fused.count, a.frame.count);
    assert.equal(fused.thermal_seen, false);
    const f = binToF32(fused.blobs);
    for (let i = 0; i < fused.count; i++) assert.equal(f[i * FUSED_STRIDE + 10], FUSED_SOURCE.monoOnly);
  });
});
