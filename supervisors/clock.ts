/** Injected time: real by default, simulated in tests (no sleeps in timer tests). */

export type TimerHandle = { readonly id: number };

/** A source of milliseconds and timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's wall clock and Node timers. */
export const realClock: Clock = (() => {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, ms),
      );
      return { id };
    },
    clearTimeout(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
})();

/** A clock that moves only when told to; timers fire inside `advance`. */
export class ManualClock implements Clock {
  #now: number;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(h: TimerHandle): void {
    this.#timers.delete(h.id);
  }
  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = end;
  }
  get pending(): number {
    return this.#timers.size;
  }
}

const epochNs0 = BigInt(Date.now()) * 1_000_000n;
const hr0 = process.hrtime.bigint();

/** Current time as integer nanoseconds since the Unix epoch (monotonic within a process). */
export function nowNs(): bigint {
  return epochNs0 + (process.hrtime.bigint() - hr0);
}
