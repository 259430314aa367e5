#!/usr/bin/env node
// Does this machine take whole milliseconds away from its CPUs? One probe per CPU, pinned there
// at real-time priority, sleeps 1 ms in a loop and reports each wake-up more than THRESHOLD_MS
// late: at that priority nothing of the machine's own load delays it, so what it sees is time
// the CPU did not run at all (a virtual machine's host running something else, or the kernel
// busy with interrupts off). Run it beside a pipeline, then ask scripts/late-scans.js whether
// the late scans fell in those gaps:
//   node scripts/stall-probe.js --duration-s 75 > stalls.jsonl &
//   npx skyvox up --scenario ring10 --record DIR
//   node scripts/late-scans.js DIR --stalls stalls.jsonl
// Prints one JSON line per late wake-up: {"cpu", "at_ms" (wall clock, ms), "late_ms"}. Real-time
// priority needs root (or CAP_SYS_NICE); without it the probes run at normal priority and say
// so on stderr (then the machine's own load delays them too).
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '60' },
    'threshold-ms': { type: 'string', default: '3' },
    cpu: { type: 'string' },
  },
});
const duration = Number(values['duration-s']);
const threshold = Number(values['threshold-ms']);
if (!(duration > 0) || !(threshold > 0)) {
  process.stderr.write('usage: node scripts/stall-probe.js [--duration-s S (60)] [--threshold-ms MS (3)]\n');
  process.exit(2);
}

if (values.cpu !== undefined) {
  // The probe itself: a futex wait of 1 ms, measured on the monotonic clock; nothing allocated
  // in the loop but the rare report, so the probe's own collector stays out of its way.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + duration * 1000;
  for (let before = performance.now(); before < end; ) {
    Atomics.wait(cell, 0, 0, 1);
    const after = performance.now();
    const late = after - before - 1;
    if (late > threshold) process.stdout.write(`{"cpu":${values.cpu},"at_ms":${(performance.timeOrigin + after).toFixed(1)},"late_ms":${late.toFixed(2)}}\n`);
    before = after;
  }
} else {
  const self = fileURLToPath(import.meta.url);
  const args = ['--duration-s', String(duration), '--threshold-ms', String(threshold)];
  const realtime = spawnSync('chrt', ['-f', '50', 'true']).status === 0 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (!realtime) process.stderr.write('stall-probe: chrt -f or taskset unavailable (root or CAP_SYS_NICE needed): probes run at normal priority, unpinned\n');
  const probes = Array.from({ length: availableParallelism() }, (_, cpu) => {
    const argv = [process.execPath, self, ...args, '--cpu', String(cpu)];
    return realtime ? spawn('chrt', ['-f', '50', 'taskset', '-c', String(cpu), ...argv], { stdio: ['ignore', 'inherit', 'inherit'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  });
  // The probes run at real-time priority: never leave one behind.
  const stop = () => probes.forEach((p) => p.kill('SIGTERM'));
  process.on('SIGINT', () => (stop(), process.exit(130)));
  process.on('SIGTERM', () => (stop(), process.exit(143)));
  let left = probes.length;
  for (const p of probes) p.on('exit', () => --left === 0 && process.exit(0));
}
