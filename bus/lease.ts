/**
 * A lease in a JetStream KV key, taken and renewed by compare-and-set on the key's revision.
 * Expiry needs no shared clock: a contender takes the lease once the key's revision has not
 * changed for a whole lease period of its own monotonic time, and a holder stops trusting
 * its lease a lease period after it last started a renewal that succeeded (so it lets go
 * before anyone can take over; a paused process finds its lease gone when it resumes).
 * Every take-over raises the term by one, under CAS, so terms only grow: orders carry the
 * term, and receivers refuse terms older than one they have seen (fencing).
 */
import type { KV } from '@nats-io/kv';
import { decode, encode } from './codec.js';
import { CoordinatorLease } from '../schemas/cluster.js';
import { validate } from '../schemas/message.js';
import { nowNs } from '../supervisors/clock.js';

export interface LeaseStatus {
  held: boolean;
  /** The current term (ours when held), if any holder is known. */
  term: number | undefined;
  holder: string | undefined;
}

/** One contender for one lease key. */
export class KvLease {
  readonly #kv: KV;
  readonly #key: string;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #now: () => number;
  #term: number | undefined;
  #revision: number | undefined;
  #validUntil = -Infinity;
  #seen: { revision: number; at: number } | undefined;

  constructor(kv: KV, key: string, holder: string, leaseMs: number, now: () => number = () => performance.now()) {
    this.#kv = kv;
    this.#key = key;
    this.#holder = holder;
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  /** True while this contender holds the lease by its own clock (no network needed). */
  get held(): boolean {
    return this.#term !== undefined && this.#now() < this.#validUntil;
  }

  /** Our term while held. */
  get term(): number | undefined {
    return this.held ? this.#term : undefined;
  }

  /** Renews, takes or observes the lease; call a few times per lease period. */
  async tick(): Promise<LeaseStatus> {
    const started = this.#now();
    const entry = await this.#kv.get(this.#key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return this.#write(1, undefined, started);
    const cur = validate(CoordinatorLease, decode(entry.value));
    if (this.#seen?.revision !== entry.revision) this.#seen = { revision: entry.revision, at: started };
    if (cur.holder === this.#holder && cur.term === this.#term && entry.revision === this.#revision && this.held) {
      return this.#write(cur.term, entry.revision, started);
    }
    this.#term = undefined;
    const vacant = cur.holder === '' || started - this.#seen.at >= this.#leaseMs;
    if (vacant) return this.#write(cur.term + 1, entry.revision, started);
    return { held: false, term: cur.term, holder: cur.holder };
  }

  /** Gives the lease up (keeping the term in the key, so terms keep growing). */
  async release(): Promise<void> {
    if (!this.held || this.#revision === undefined) return;
    const term = this.#term!;
    this.#term = undefined;
    await this.#kv.update(this.#key, encode(validate(CoordinatorLease, { holder: '', term, renewed_ns: nowNs(), lease_ms: this.#leaseMs })), this.#revision).catch(() => {});
  }

  async #write(term: number, expected: number | undefined, started: number): Promise<LeaseStatus> {
    const value = encode(validate(CoordinatorLease, { holder: this.#holder, term, renewed_ns: nowNs(), lease_ms: this.#leaseMs }));
    try {
      this.#revision = expected === undefined ? await this.#kv.create(this.#key, value) : await this.#kv.update(this.#key, value, expected);
    } catch {
      // Someone else wrote first (or KV is unavailable): not ours this round.
      this.#term = undefined;
      return { held: false, term: undefined, holder: undefined };
    }
    this.#term = term;
    this.#validUntil = started + this.#leaseMs;
    this.#seen = { revision: this.#revision, at: started };
    return { held: true, term, holder: this.#holder };
  }
}
