/** Real actors that record what happens to them, for supervision tests. */
import { Actor, type ActorBehavior } from '../../supervisors/actor.js';
import type { ChildSpec, RestartType } from '../../supervisors/child.js';
import type { Supervisor } from '../../supervisors/supervisor.js';

export interface Journal {
  events: string[];
  /** The live incarnation of each child, by id. */
  live: Map<string, Actor<string>>;
  /** How many incarnations each child has had. */
  incarnations: Map<string, number>;
}

export const journal = (): Journal => ({ events: [], live: new Map(), incarnations: new Map() });

export interface RecordingOptions {
  restart?: RestartType;
  shutdownMs?: number;
  /** Never finishes stopping (to exercise the shutdown timeout). */
  hangOnStop?: boolean;
  /** Throws from start on these incarnation numbers (1-based). */
  failStartOn?: number[];
  behavior?: Partial<ActorBehavior<string>>;
}

/** A child spec whose actors log "start:id" and "stop:id" into `j`. */
export function recording(j: Journal, id: string, o: RecordingOptions = {}): ChildSpec {
  return {
    id,
    kind: 'test',
    restart: o.restart,
    shutdownMs: o.shutdownMs,
    create: () => {
      const n = (j.incarnations.get(id) ?? 0) + 1;
      j.incarnations.set(id, n);
      const actor: Actor<string> = new Actor<string>({
        name: id,
        kind: 'test',
        behavior: {
          start() {
            if (o.failStartOn?.includes(n)) throw new Error(`${id} refuses to start`);
            j.events.push(`start:${id}`);
            j.live.set(id, actor);
          },
          stop() {
            j.events.push(`stop:${id}`);
            if (j.live.get(id) === actor) j.live.delete(id);
            if (o.hangOnStop) return new Promise<void>(() => {});
          },
          ...o.behavior,
        },
      });
      return actor;
    },
  };
}

/** Lets queued promise callbacks and immediates run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Statuses of a supervisor's children, by id. */
export const statuses = (s: Supervisor) => Object.fromEntries(s.children().map((c) => [c.id, c.status]));
