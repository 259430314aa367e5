/**
 * Arrays that keep one shape whether or not V8 has optimized the code that builds them.
 *
 * `Array.prototype.map` (and `Array.from({ length })`) returns a packed array from the
 * interpreter but a holey one once TurboFan has inlined it (it preallocates the length).
 * Code that consumes the result was compiled for the kind it saw, so the moment its producer
 * is optimized it deopts ("wrong map") and compiles again: on a live run's first seconds that
 * was the association, the tracker's gating and IMM, and the frameset pass, recompiled on two
 * busy cores just when the first scans are due. Arrays grown by `push` from `[]` stay packed
 * either way. Use these where a hot path hands an array to another hot function.
 */

/** `a.map(f)`, always packed. */
export function mapPacked<T, U>(a: readonly T[], f: (x: T, i: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < a.length; i++) out.push(f(a[i]!, i));
  return out;
}

/** `Array.from({ length: n }, (_, i) => f(i))`, always packed. */
export function fromPacked<U>(n: number, f: (i: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < n; i++) out.push(f(i));
  return out;
}
