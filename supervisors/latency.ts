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
    const sorted = this.#samples.slice(0, this.#count).sort();
    const at = (q: number) => sorted[Math.min(this.#count - 1, Math.ceil(q * this.#count) - 1)] as number;
    this.#cached = { p50: at(0.5), p99: at(0.99) };
    return { ...this.#cached };
  }
}
