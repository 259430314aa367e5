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
 * Node options of every skyvox process, each measured on ring10 on the 2-vCPU VM (interleaved
 * runs, `npx skyvox up --scenario ring10 --record D`, latency `published_ns − t_ns`):
 * - `--v8-pool-size=1`: one thread in V8's worker pool (Node starts four). The pool compiles
 *   hot functions and helps the garbage collector; on two cores four of them took a core from
 *   the main thread and nats-server while a run's code compiled, and its first second of
 *   tracks came out late: over three 60 s runs each, scans later than 50 ms went from 29–71
 *   to 13–23 and the p99 from 5 s on from 42–55 to 35–46 ms with one thread.
 * - `--max-semi-space-size=32` (MiB; Node's default 16): a larger young generation. The
 *   pipeline allocates ≈ 450 MB/s of short-lived objects, a scavenge every 25–35 ms; with it,
 *   over three 30 s runs each, scans over 50 ms went from 15–23 to 9–15 and the p99 from 5 s
 *   on from 32–35 to 27–31 ms, for ≈ 32 MB more memory.
 * A heap of skyvox's size loses little by either on larger machines. Other values:
 * `node --v8-pool-size=N --max-semi-space-size=M bin/skyvox.js ARGS`.
 */
export const SKYVOX_NODE_OPTIONS: readonly string[] = ['--v8-pool-size=1', '--max-semi-space-size=32'];

/** The first line of bin/skyvox.js, which must carry SKYVOX_NODE_OPTIONS. */
export const SKYVOX_SHEBANG = `#!/usr/bin/env -S node ${SKYVOX_NODE_OPTIONS.join(' ')}`;

/** Arguments for process.execPath that run `skyvox ARGS` as bin/skyvox.js would. */
export function skyvoxArgs(args: readonly string[]): string[] {
  return [...SKYVOX_NODE_OPTIONS, SKYVOX_BIN, ...args];
}
