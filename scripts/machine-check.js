#!/usr/bin/env node
// What this machine does to a real-time pipeline, apart from the pipeline: how long a fixed
// piece of work takes on one CPU alone and on every CPU at once (virtual CPUs that share
// physical cores, or a host that overcommits them, slow each other down), and what a fresh
// page of memory costs (each first write to a page just mapped is a fault: the kernel, and under
// a virtual machine its host, finds and zeroes a page; a heap that grows, or memory returned
// to the system and taken back, pays it per page). Run it before a timing run to see which
// kind of hour the machine is having; scripts/stall-probe.js, run beside the pipeline, shows
// the moments the CPUs stopped altogether.
//   node scripts/machine-check.js [--rounds 20] [--fault-mib 256]
// Prints JSON.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const { values } = parseArgs({ args: isMainThread ? process.argv.slice(2) : [], options: { rounds: { type: 'string', default: '20' }, 'fault-mib': { type: 'string', default: '256' } } });
const rounds = Number(values.rounds);
const faultMib = Number(values['fault-mib']);
if (!Number.isInteger(rounds) || rounds < 1 || !(faultMib > 0)) {
  process.stderr.write('usage: node scripts/machine-check.js [--rounds N (20)] [--fault-mib MIB (256)]\n');
  process.exit(2);
}

/** Milliseconds of each of `n` rounds of a fixed arithmetic loop. */
function work(n) {
  const times = [];
  let sink = 0;
  for (let k = 0; k < n; k++) {
    const start = performance.now();
    for (let i = 0; i < 2e7; i++) sink += Math.sqrt(i) * 1e-9;
    times.push(performance.now() - start);
  }
  if (sink < 0) throw new Error('unreachable');
  return times;
}

const summary = (times) => {
  const s = [...times].sort((a, b) => a - b);
  const r = (v) => Number(v.toFixed(1));
  return { median: r(s[Math.floor(s.length / 2)]), min: r(s[0]), max: r(s.at(-1)) };
};

/** Microseconds per page of the first write to fresh memory, and of a second one. */
function pageCost(mib) {
  const page = 4096;
  // allocUnsafeSlow: a buffer of its own, so large that the allocator maps fresh memory for it.
  const buf = Buffer.allocUnsafeSlow(mib * 1024 * 1024);
  const pass = (value) => {
    const start = performance.now();
    for (let i = 0; i < buf.length; i += page) buf[i] = value;
    return ((performance.now() - start) * 1000 * page) / buf.length;
  };
  const first = pass(1);
  return { first_write_us_per_page: Number(first.toFixed(3)), rewrite_us_per_page: Number(pass(2).toFixed(4)) };
}

if (!isMainThread) {
  parentPort.postMessage(work(workerData.rounds));
} else {
  const cpus = availableParallelism();
  const alone = summary(work(rounds));
  // The same work on every CPU at once, each in a thread of its own.
  const together = await Promise.all(
    Array.from({ length: cpus }, () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { rounds } });
      w.once('message', resolve);
      w.once('error', reject);
    })),
  );
  const all = summary(together.flat());
  process.stdout.write(JSON.stringify({ cpus, work_ms_one_cpu: alone, work_ms_every_cpu: all, every_cpu_slowdown: Number((all.median / alone.median).toFixed(2)), page_fault: pageCost(faultMib) }) + '\n');
}
