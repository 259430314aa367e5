/**
 * The pulse actor: on a node that may run watched actors (cluster actors with `liveness`), it
 * publishes several times a silence period how long ago each one it runs last received a
 * message on its input subject and published on its output subject. The coordinators judge
 * liveness from these small messages: subscribing to the watched subjects themselves had every
 * coordinator-capable node receive the whole pipeline's traffic (detections, fused views,
 * measurements, tracks) a second time.
 */
import type { Static } from '@sinclair/typebox';
import { subjectMatches } from '../../bus/subjects.js';
import { NodePulse } from '../../schemas/cluster.js';
import { type ActorBehavior, every } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { PlannedActor } from './placement.js';
import type { ActorView } from './view.js';

/** Pulses per silence period: a dead node's actors are suspected at most a tenth of it late. */
const PULSES_PER_SILENCE = 10;

/** The default silence period of a liveness watch (ms). */
export const DEFAULT_SILENCE_MS = 500;

/** Whether an actor in this state is still the node's to answer for (not on its way out). */
export const HOSTED = new Set(['starting', 'running', 'crashed', 'restarting']);

/** How often a node pulses for these watched actors (ms). */
export function pulsePeriodMs(watched: readonly PlannedActor[]): number {
  const silence = Math.min(...watched.filter((a) => a.liveness).map((a) => a.liveness!.silence_ms ?? DEFAULT_SILENCE_MS));
  return Math.max(10, Math.floor(silence / PULSES_PER_SILENCE));
}

/** Builds the pulse behaviour for `node`; `view` lists the node's actors at each pulse. */
export function pulseBehavior(node: string, watched: readonly PlannedActor[], view: () => ActorView[]): ActorBehavior<never> {
  const watches = new Map(watched.filter((a) => a.liveness).map((a) => [a.name, a.liveness!]));
  const matches = new Map<string, boolean>();
  /** How long ago the newest of `times` on a subject `pattern` delivers was, or null. */
  const age = (times: ReadonlyMap<string, number> | undefined, pattern: string, now: number): number | null => {
    let newest = -Infinity;
    for (const [subject, at] of times ?? []) {
      if (at <= newest) continue;
      const key = `${pattern} ${subject}`;
      let hit = matches.get(key);
      if (hit === undefined) matches.set(key, (hit = subjectMatches(pattern, subject)));
      if (hit) newest = at;
    }
    return newest === -Infinity ? null : Math.max(0, now - newest);
  };
  return {
    start(ctx) {
      if (watches.size === 0) return;
      every(ctx, pulsePeriodMs(watched), () => {
        const now = performance.now();
        const actors: Static<typeof NodePulse.schema>['actors'] = [];
        for (const a of view()) {
          const w = watches.get(a.name);
          if (!w || !HOSTED.has(a.status)) continue;
          actors.push({ name: a.name, input_age_ms: age(a.stats?.lastReceived, w.input, now), output_age_ms: age(a.stats?.lastSent, w.output, now) });
        }
        if (actors.length > 0) ctx.publish(NodePulse, ctx.bus!.subjects.pulse(node), { t_ns: nowNs(), node, actors });
      });
    },
  };
}
