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

/** How often (monotonic ns) an epoch clock compares itself with the wall clock. */
const CHECK_NS = 100_000_000n;
/** The gap to the wall clock (ns) beyond which it corrects itself: Date.now() reads whole milliseconds. */
const TOLERANCE_NS = 1_000_000n;

/**
 * An epoch clock in integer nanoseconds: the monotonic clock's resolution, kept on the wall
 * clock. Anchored once, a process's clock followed the monotonic clock's rate alone, and where
 * that differs from the wall clock's — for a while on the development VM the wall clock gained
 * 5 ms a second on the monotonic one (a time sync catching up) — every process drifted away
 * from the epoch, and two processes started 3.5 s apart disagreed by 18 ms: exposure times
 * stamped in one and publication times in another made latencies look that much shorter. Every CHECK_NS it reads the wall clock: ahead
 * by more than TOLERANCE_NS, it steps forward to it; behind, it slows (taking back at most half
 * the time passed since the last check), so it never runs backwards. Never repeats a value.
 */
export function epochClock(wallMs: () => number = Date.now, monotonicNs: () => bigint = process.hrtime.bigint): () => bigint {
  // The wall clock's reading is the start of its millisecond: its middle is the best guess.
  const wallNs = () => BigInt(wallMs()) * 1_000_000n + 500_000n;
  let anchor = wallNs() - monotonicNs();
  let checked = monotonicNs();
  let last = 0n;
  return () => {
    const mono = monotonicNs();
    if (mono - checked >= CHECK_NS) {
      const gap = wallNs() - (anchor + mono);
      if (gap > TOLERANCE_NS) anchor += gap;
      else if (gap < -TOLERANCE_NS) anchor -= -gap < (mono - checked) / 2n ? -gap : (mono - checked) / 2n;
      checked = mono;
    }
    const t = anchor + mono;
    last = t > last ? t : last + 1n;
    return last;
  };
}

/** Current time as integer nanoseconds since the Unix epoch (monotonic within a process, on the wall clock; `epochClock`). */
export const nowNs: () => bigint = epochClock();
