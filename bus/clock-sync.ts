/**
 * Clock synchronisation against the site time server, NTP-style: each exchange gives four
 * stamps (t1 local send, t2 server receive, t3 server reply, t4 local receive), an offset
 * θ = ((t2 − t1) + (t3 − t4)) / 2 and a round trip δ = (t4 − t1) − (t3 − t2). The estimator
 * keeps the recent exchanges with the smallest round trips (the least queueing, so the least
 * asymmetry) and fits offset and drift by least squares, so a clock running fast is followed.
 */
import type { Bus } from './bus.js';
import { ClockReply, ClockRequest } from '../schemas/clock.js';

interface Sample {
  /** Local time of the exchange's midpoint (ns). */
  at: bigint;
  /** Offset site − local (ns). */
  offset: number;
  rtt: number;
}

export interface ClockSyncOptions {
  /** Exchanges remembered. */
  window: number;
  /** Share of the window, lowest round trips first, used for the fit. */
  keep: number;
}

/** Offset and drift of a local clock against the site clock. */
export class ClockSync {
  readonly #o: ClockSyncOptions;
  #samples: Sample[] = [];
  #fit: { at0: bigint; offset: number; drift: number } | undefined;

  constructor(options: Partial<ClockSyncOptions> = {}) {
    this.#o = { window: options.window ?? 64, keep: options.keep ?? 0.5 };
  }

  /** Adds one exchange's four stamps. */
  add(t1: bigint, t2: bigint, t3: bigint, t4: bigint): void {
    const offset = (Number(t2 - t1) + Number(t3 - t4)) / 2;
    const rtt = Number(t4 - t1) - Number(t3 - t2);
    this.#samples.push({ at: t1 + (t4 - t1) / 2n, offset, rtt });
    if (this.#samples.length > this.#o.window) this.#samples.shift();
    this.#refit();
  }

  get synced(): boolean {
    return this.#fit !== undefined;
  }

  /** Current estimate: offset (ns, site − local) at local time `at`, and drift (ns per ns). */
  estimate(at: bigint): { offsetNs: number; drift: number } | undefined {
    if (!this.#fit) return undefined;
    return { offsetNs: this.#fit.offset + this.#fit.drift * Number(at - this.#fit.at0), drift: this.#fit.drift };
  }

  /** Converts a local timestamp to the site clock (unchanged until the first exchange). */
  toSite(local: bigint): bigint {
    const e = this.estimate(local);
    return e ? local + BigInt(Math.round(e.offsetNs)) : local;
  }

  #refit(): void {
    // An exchange's offset is off by up to half its round trip (asymmetric queueing): keep the
    // share with the smallest round trips, and of those only the ones within twice the best,
    // weighted by 1/δ², so one exchange delayed on one side cannot pull the fit.
    const sorted = [...this.#samples].sort((a, b) => a.rtt - b.rtt);
    const minRtt = Math.max(sorted[0]!.rtt, 1000);
    const best = sorted.slice(0, Math.max(1, Math.ceil(sorted.length * this.#o.keep))).filter((s, i) => i === 0 || s.rtt <= 2 * minRtt);
    const at0 = best.reduce((m, s) => (s.at < m ? s.at : m), best[0]!.at);
    const xs = best.map((s) => Number(s.at - at0));
    const ys = best.map((s) => s.offset);
    const ws = best.map((s) => 1 / Math.max(s.rtt, 1000) ** 2);
    const n = xs.length;
    const W = ws.reduce((a, b) => a + b, 0);
    const mx = xs.reduce((a, x, i) => a + ws[i]! * x, 0) / W;
    const my = ys.reduce((a, y, i) => a + ws[i]! * y, 0) / W;
    let sxx = 0;
    let sxy = 0;
    let span = 0;
    for (let i = 0; i < n; i++) {
      sxx += ws[i]! * (xs[i]! - mx) ** 2;
      sxy += ws[i]! * (xs[i]! - mx) * (ys[i]! - my);
      span = Math.max(span, Math.abs(xs[i]! - mx));
    }
    // Drift needs a spread of sample times; until then, offset only.
    const drift = n >= 4 && span > 1e9 ? sxy / sxx : 0;
    this.#fit = { at0, offset: my - drift * mx, drift };
  }
}

/** One exchange with the site time server, stamping with `localNow`; adds it to `sync`. */
export async function exchange(bus: Bus, sync: ClockSync, localNow: () => bigint, timeoutMs = 1000): Promise<void> {
  const t1 = localNow();
  const reply = await bus.request(ClockRequest, ClockReply, bus.subjects.clock, { t1 }, timeoutMs);
  const t4 = localNow();
  if (reply.t1 !== t1) return; // a late reply to an earlier request
  sync.add(t1, reply.t2, reply.t3, t4);
}
