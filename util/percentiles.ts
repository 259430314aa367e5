/** The upper median of values in any order (the middle one of an odd count, the higher middle one of an even count); 0 for none. */
export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  return s.length ? s[s.length >> 1]! : 0;
}

/** p50 and p99 of values sorted ascending, by nearest rank (a value that occurred, never an interpolation). */
export function p50p99(sorted: ArrayLike<number>): { p50: number; p99: number } {
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99) };
}
