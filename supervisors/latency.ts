import { p50p99 } from '../util/percentiles.js';

/** Percentiles over a sliding window of recent samples. */
export class LatencyWindow {
  #samples: Float64Array;
  #count = 0;
  #next = 0;
  // The last answer, until a sample arrives: telemetry asks every tick, idle actors add none.
  #cached: { p50: number; p99: number } | undefined;
  constructor(size = 256) {
    this.#samples = new Float64Array(size);
  }
  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count = Math.min(this.#count + 1, this.#samples.length);
    this.#cached = undefined;
  }
  /** p50 and p99 of the window (nearest rank); zeros when empty. */
  percentiles(): { p50: number; p99: number } {
    if (this.#count === 0) return { p50: 0, p99: 0 };
    if (this.#cached) return { ...this.#cached };
    this.#cached = p50p99(this.#samples.slice(0, this.#count).sort());
    return { ...this.#cached };
  }
}
