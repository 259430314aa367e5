/**
 * How a skyvox process is started. `bin/skyvox.js` runs under SKYVOX_NODE_OPTIONS (its first
 * line says so to the kernel); whatever starts another skyvox process itself (tests, benchmarks)
 * starts it the same way, so every skyvox process runs alike.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The launcher script, `skyvox` on the PATH. */
export const SKYVOX_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/skyvox.js');

/**
 * One thread in V8's worker pool (Node starts four). The pool compiles hot functions and helps
 * the garbage collector; on a two-core machine four of them took a core from the main thread
 * and nats-server while a run's code compiled, and ring10's first second of tracks came out
 * late: over three interleaved 60 s runs each, the scans later than 50 ms went from 29–71 to
 * 13–23 and the p99 from 5 s on from 42–55 to 35–46 ms with one thread. A heap of skyvox's size
 * loses little by it on larger machines. Another pool: `node --v8-pool-size=N bin/skyvox.js ARGS`.
 */
export const SKYVOX_NODE_OPTIONS: readonly string[] = ['--v8-pool-size=1'];

/** The first line of bin/skyvox.js, which must carry SKYVOX_NODE_OPTIONS. */
export const SKYVOX_SHEBANG = `#!/usr/bin/env -S node ${SKYVOX_NODE_OPTIONS.join(' ')}`;

/** Arguments for process.execPath that run `skyvox ARGS` as bin/skyvox.js would. */
export function skyvoxArgs(args: readonly string[]): string[] {
  return [...SKYVOX_NODE_OPTIONS, SKYVOX_BIN, ...args];
}
