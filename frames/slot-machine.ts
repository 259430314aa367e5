/**
 * The lifecycle of one frame slot, as an xstate machine:
 *   FREE → WRITING → READY → READING (counted readers) → FREE
 * plus ABORT (a write given up) and EVICT (a full ring drops its oldest READY frame).
 * The ring does not run an interpreter per slot on its hot path: `compileSlotTable` asks the
 * machine, once, what every (state, event) pair does, and the ring applies that table with
 * atomic compare-and-swap on shared memory, so any thread sees the same rules.
 */
import { assign, setup, transition } from 'xstate';

export const SLOT_STATES = ['FREE', 'WRITING', 'READY', 'READING'] as const;
export type SlotState = (typeof SLOT_STATES)[number];
export const SLOT_EVENTS = ['BEGIN_WRITE', 'COMMIT', 'ABORT', 'ACQUIRE', 'RELEASE', 'EVICT'] as const;
export type SlotEvent = (typeof SLOT_EVENTS)[number];

export const slotMachine = setup({
  types: {} as { context: { readers: number }; events: { type: SlotEvent } },
  guards: { lastReader: ({ context }) => context.readers === 1 },
}).createMachine({
  id: 'slot',
  context: { readers: 0 },
  initial: 'FREE',
  states: {
    FREE: { on: { BEGIN_WRITE: 'WRITING' } },
    WRITING: { on: { COMMIT: 'READY', ABORT: 'FREE' } },
    READY: {
      on: {
        ACQUIRE: { target: 'READING', actions: assign({ readers: 1 }) },
        EVICT: 'FREE',
      },
    },
    READING: {
      on: {
        ACQUIRE: { actions: assign({ readers: ({ context }) => context.readers + 1 }) },
        RELEASE: [
          { guard: 'lastReader', target: 'FREE', actions: assign({ readers: 0 }) },
          { actions: assign({ readers: ({ context }) => context.readers - 1 }) },
        ],
      },
    },
  },
});

/** What an event does in a state: the next state and the change in readers, or refused. */
export interface SlotRule {
  next: SlotState;
  readersDelta: number;
}

/** Rules by state, event and whether exactly one reader holds the slot. */
export type SlotTable = Map<string, SlotRule | undefined>;

export const ruleKey = (state: SlotState, event: SlotEvent, oneReader: boolean) => `${state}|${event}|${oneReader ? 1 : 0}`;

/** Asks the machine what each (state, event) does, with one reader and with several. */
export function compileSlotTable(): SlotTable {
  const table: SlotTable = new Map();
  for (const state of SLOT_STATES) {
    for (const readers of state === 'READING' ? [1, 2] : [0]) {
      const snapshot = slotMachine.resolveState({ value: state, context: { readers } });
      for (const event of SLOT_EVENTS) {
        const key = ruleKey(state, event, readers === 1);
        if (!snapshot.can({ type: event })) {
          table.set(key, undefined);
          continue;
        }
        const [next] = transition(slotMachine, snapshot, { type: event });
        table.set(key, { next: next.value as SlotState, readersDelta: next.context.readers - readers });
      }
      if (state !== 'READING') for (const event of SLOT_EVENTS) table.set(ruleKey(state, event, true), table.get(ruleKey(state, event, false)));
    }
  }
  return table;
}
