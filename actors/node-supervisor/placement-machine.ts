/**
 * One placed actor's life on one node, as an xstate machine:
 *   unassigned → starting → running → migrating → unassigned
 * Orders move it (here / elsewhere), the node's supervisor reports back (started, failed,
 * stopped). The assignments actor keeps one snapshot per actor and performs the side effect
 * that each state asks for, so the rules live here and the effects stay serialized there.
 */
import { setup, transition, type SnapshotFrom } from 'xstate';

export type PlacementEvent = { type: 'ORDER_HERE' } | { type: 'ORDER_ELSEWHERE' } | { type: 'STARTED' } | { type: 'START_FAILED' } | { type: 'STOPPED' };

export const placementMachine = setup({ types: {} as { events: PlacementEvent } }).createMachine({
  id: 'placement',
  initial: 'unassigned',
  states: {
    unassigned: { on: { ORDER_HERE: 'starting' } },
    starting: { on: { STARTED: 'running', START_FAILED: 'unassigned', ORDER_ELSEWHERE: 'migrating' } },
    running: { on: { ORDER_ELSEWHERE: 'migrating' } },
    // Stopping here because it was placed elsewhere (or its order was withdrawn).
    migrating: { on: { STOPPED: 'unassigned' } },
  },
});

export type PlacementSnapshot = SnapshotFrom<typeof placementMachine>;
export type PlacementState = 'unassigned' | 'starting' | 'running' | 'migrating';

/** A fresh snapshot (unassigned). */
export const initialPlacement = (): PlacementSnapshot => placementMachine.resolveState({ value: 'unassigned', context: {} });
/** The snapshot of an actor found running (after the assignments actor itself restarted). */
export const runningPlacement = (): PlacementSnapshot => placementMachine.resolveState({ value: 'running', context: {} });

/** The next snapshot for an event (unchanged when the event means nothing in that state). */
export const nextPlacement = (s: PlacementSnapshot, e: PlacementEvent): PlacementSnapshot => transition(placementMachine, s, e)[0];

export const placementState = (s: PlacementSnapshot): PlacementState => s.value as PlacementState;
