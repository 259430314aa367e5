/**
 * Which truth objects the rig could have tracked at all: an object is observable when at
 * least `minPairs` camera pairs see it — either camera of the pair in view with a detection
 * probability of at least `minPd` under the scenario's own sensor model (the one detection
 * mode draws from), where its detection mask looks. A pair counts once: fusion forwards its thermal-only detections as the
 * pair's view, so a drone only the thermal camera sees (a dark sky at dusk) is a view too.
 * Scoring over observable objects separates what the tracker missed from what no camera could see.
 */
import { norm, sub, type Vec3 } from '../geometry/vec3.js';
import { crlbFor } from './crlb.js';
import type { EvalOptions } from './metrics.js';
import { detectionMaskFile, looksAt } from '../kernels/detection-mask.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { detectionProbability } from '../sim/detection-mode.js';
import { rigOf, rigPairs } from '../sim/rig.js';
import type { Scenario } from '../sim/scenario.js';
import { BANDS } from '../sim/scenario.js';
import { bandSensor, objectImage } from '../sim/sensor.js';

/** Counts the camera pairs that see an object (position, kind, size), stopping once `enough` do. */
export function pairsSeeingFor(scenario: Scenario, minPd = 0.5) {
  const sensors = Object.fromEntries(BANDS.map((b) => [b, bandSensor(scenario, b)]));
  const pairs = rigPairs(rigOf(scenario)).map((pair) => [pair.mono, pair.thermal].filter((c) => c !== undefined));
  return (p: Vec3, kind: ObjectKind, sizeM: number, enough = Infinity): number => {
    let n = 0;
    for (const cams of pairs) {
      const sees = cams.some((cam) => {
        const uv = cam.model.project(p);
        if (!uv || !cam.model.inImage(uv[0], uv[1], 1)) return false;
        if (cam.mask !== undefined && !looksAt(detectionMaskFile(cam.mask), uv[0], uv[1])) return false;
        const sensor = sensors[cam.band]!;
        const img = objectImage(kind, cam.band, sensor, sizeM, norm(sub(p, cam.model.center)), cam.model.fx);
        return detectionProbability(cam, sensor, kind, img, uv) >= minPd;
      });
      if (sees && ++n >= enough) break;
    }
    return n;
  };
}

/** A predicate over (position, kind, size): observable by the scenario's rig. */
export function observableFor(scenario: Scenario, minPairs = 2, minPd = 0.5) {
  const seeing = pairsSeeingFor(scenario, minPd);
  return (p: Vec3, kind: ObjectKind, sizeM: number): boolean => seeing(p, kind, sizeM, minPairs) >= minPairs;
}

/** The scenario-dependent scoring options: the position bound, observability, and the pairs that see a missed object. */
export function scenarioScoring(scenario: Scenario): Pick<EvalOptions, 'bound' | 'observable' | 'pairsSeeing'> {
  return { bound: crlbFor(scenario), observable: observableFor(scenario), pairsSeeing: pairsSeeingFor(scenario) };
}
