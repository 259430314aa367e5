/**
 * A node's guard against acting on authority it may have lost while it was not running
 * (SIGSTOP, a VM freeze, a long GC): a fine timer notices a gap longer than the lease, closes
 * the fence at once — before the messages that queued up during the pause are handled, since
 * timers run first in each turn of the event loop — and it stays closed until the node has
 * re-read its orders. A process that merely cannot reach JetStream keeps running and keeps
 * its fence open, so live output does not stop during a leader election.
 */
export class PauseFence {
  readonly #limitMs: number;
  readonly #onPause: () => void;
  #open = true;
  #last = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Pauses seen. */
  pauses = 0;

  constructor(limitMs: number, onPause: () => void, tickMs = Math.max(5, Math.min(50, limitMs / 4))) {
    this.#limitMs = limitMs;
    this.#onPause = onPause;
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  /** True while actors placed on this node may act on their orders (publish). */
  get open(): boolean {
    this.#tick();
    return this.#open;
  }

  /** The node re-read its orders after a pause: reopen. */
  confirm(): void {
    this.#open = true;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    const gap = now - this.#last;
    this.#last = now;
    if (gap > this.#limitMs && this.#open) {
      this.#open = false;
      this.pauses++;
      this.#onPause();
    }
  }
}
