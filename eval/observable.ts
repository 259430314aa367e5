/**
 * Which truth objects the rig could have tracked at all: an object is observable when at
 * least `minPairs` mono cameras have it in view with a detection probability of at least
 * `minPd` under the scenario's own sensor model (the one detection mode draws from). Scoring
 * over observable objects separates what the tracker missed from what no camera could see.
 */
import { norm, sub, type Vec3 } from '../geometry/vec3.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { detectionProbability } from '../sim/detection-mode.js';
import { rigOf } from '../sim/rig.js';
import type { Scenario } from '../sim/scenario.js';
import { bandSensor, objectImage } from '../sim/sensor.js';

/** A predicate over (position, kind, size): observable by the scenario's rig. */
export function observableFor(scenario: Scenario, minPairs = 2, minPd = 0.5) {
  const rig = rigOf(scenario).filter((c) => c.band === 'mono');
  const sensor = bandSensor(scenario, 'mono');
  return (p: Vec3, kind: ObjectKind, sizeM: number): boolean => {
    let n = 0;
    for (const cam of rig) {
      const uv = cam.model.project(p);
      if (!uv || !cam.model.inImage(uv[0], uv[1], 1)) continue;
      const img = objectImage(kind, 'mono', sensor, sizeM, norm(sub(p, cam.model.center)), cam.model.fx);
      if (detectionProbability(cam, sensor, kind, img, uv) >= minPd && ++n >= minPairs) return true;
    }
    return false;
  };
}
