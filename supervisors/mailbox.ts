/** A bounded FIFO of messages with an overflow policy; what it drops or refuses is counted. */

export const OVERFLOW_POLICIES = ['drop-oldest', 'reject'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

export interface MailboxOptions {
  capacity: number;
  overflow: OverflowPolicy;
}

export const DEFAULT_MAILBOX: MailboxOptions = { capacity: 1024, overflow: 'drop-oldest' };

interface Entry<M> {
  msg: M;
  enqueuedAt: number;
}

/** Bounded queue; `push` returns false when the message was refused. */
export class Mailbox<M> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  dropped = 0;
  rejected = 0;
  #items: (Entry<M> | undefined)[];
  #head = 0;
  #size = 0;

  constructor(options: MailboxOptions = DEFAULT_MAILBOX) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`Expected positive integer for mailbox.capacity but received ${options.capacity}`);
    }
    if (!OVERFLOW_POLICIES.includes(options.overflow)) {
      throw new RangeError(`Expected one of ${OVERFLOW_POLICIES.join(', ')} for mailbox.overflow but received ${String(options.overflow)}`);
    }
    this.capacity = options.capacity;
    this.overflow = options.overflow;
    this.#items = new Array(options.capacity);
  }

  get depth(): number {
    return this.#size;
  }

  /** Enqueues; when full, drops the oldest message or refuses this one, per the policy. */
  push(msg: M, now: number): boolean {
    if (this.#size === this.capacity) {
      if (this.overflow === 'reject') {
        this.rejected++;
        return false;
      }
      this.shift();
      this.dropped++;
    }
    this.#items[(this.#head + this.#size) % this.capacity] = { msg, enqueuedAt: now };
    this.#size++;
    return true;
  }

  /** Takes the oldest message, or undefined when empty. */
  shift(): Entry<M> | undefined {
    if (this.#size === 0) return undefined;
    const entry = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return entry;
  }

  /** Empties the mailbox; returns how many messages it held. */
  clear(): number {
    const n = this.#size;
    while (this.shift()) {}
    return n;
  }
}
