/**
 * Telemetry overhead: CPU of a node hosting N idle actors with telemetry at R Hz, against the
 * same node with telemetry effectively off, measured in the same run on a real nats-server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '../bus/bus.js';
import { connectBus } from '../bus/connection.js';
import { startNatsServer } from '../bus/nats-server.js';
import { parseNodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { ActorRegistry } from '../supervisors/registry.js';

export interface TelemetryBenchOptions {
  actors: number;
  rateHz: number;
  windowS: number;
  repeats: number;
}

const CLK_TCK = 100; // Linux USER_HZ for /proc/<pid>/stat times

function procCpuS(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Runs the benchmark; returns a JSON-ready report. */
export async function telemetryOverhead(o: TelemetryBenchOptions): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skyvox-bench-'));
  const server = await startNatsServer({ dataDir, port: 0, wsPort: 0 });
  try {
    const nc = await connectBus({ servers: server.url, user: 'node', pass: server.credentials.node });
    // Only the node runs in this process: a subscriber here would add its own CPU to the figure.
    const registry = new ActorRegistry().register('idle', () => ({}));
    const actors = Array.from({ length: o.actors }, (_, i) => ({ name: `idle-${i}`, kind: 'idle' }));

    // floorHz > 0: a bare timer publishing one small message per tick, the platform's floor for
    // "wake up R times a second and write to NATS", with no telemetry work at all.
    const measure = async (rateHz: number, floorHz = 0) => {
      const node = new NodeSupervisor({ config: parseNodeConfig({ name: 'bench', telemetry: { rate_hz: rateHz }, actors }), bus: new Bus(nc, { receiver: 'bench' }), registry });
      await node.start();
      const floor = floorHz > 0 ? setInterval(() => nc.publish('skyvox.bench.floor', new Uint8Array(256)), 1000 / floorHz) : undefined;
      await new Promise((r) => setTimeout(r, 300)); // settle
      const before = process.cpuUsage();
      const srvBefore = procCpuS(server.pid);
      const out0 = node.list().find((a) => a.name === 'telemetry')!.stats!.msgsOut;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, o.windowS * 1000));
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(before);
      const srvAfter = procCpuS(server.pid);
      const out1 = node.list().find((a) => a.name === 'telemetry')!.stats!.msgsOut;
      clearInterval(floor);
      await node.stop();
      return {
        node_core_fraction: (cpu.user + cpu.system) / 1e6 / wallS,
        server_core_fraction: srvBefore !== undefined && srvAfter !== undefined ? (srvAfter - srvBefore) / wallS : null,
        records_per_s: (out1 - out0) / wallS,
      };
    };

    type Run = Awaited<ReturnType<typeof measure>>;
    const runs: { baseline: Run; floor: Run; telemetry: Run }[] = [];
    // One unmeasured round first: a node's telemetry runs for its lifetime, so the figure is the
    // steady state, not the first second's compilation of its code paths.
    await measure(o.rateHz);
    for (let i = 0; i < o.repeats; i++) {
      // Interleaved, so drift in machine load hits every side alike.
      const baseline = await measure(0.001);
      const floor = await measure(0.001, o.rateHz);
      const telemetry = await measure(o.rateHz);
      runs.push({ baseline, floor, telemetry });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const overhead = median(runs.map((r) => r.telemetry.node_core_fraction - r.baseline.node_core_fraction));
    const floorCost = median(runs.map((r) => r.floor.node_core_fraction - r.baseline.node_core_fraction));
    const work = median(runs.map((r) => r.telemetry.node_core_fraction - r.floor.node_core_fraction));
    await nc.close();
    return {
      bench: 'telemetry-overhead',
      actors: o.actors,
      rate_hz: o.rateHz,
      window_s: o.windowS,
      repeats: o.repeats,
      // the node's own telemetry and ctl actors report too, plus one node record
      expected_records_per_s: (o.actors + 3) * o.rateHz,
      runs,
      // Everything telemetry costs the node process, kernel time of its socket writes included.
      overhead_core_fraction: overhead,
      // Of that, what any R Hz publisher pays here (timer wake-up + one loopback write per tick).
      floor_core_fraction: floorCost,
      // The rest: building, validating, encoding and publishing the records.
      telemetry_work_core_fraction: work,
      ratio_to_baseline: median(runs.map((r) => r.telemetry.node_core_fraction / Math.max(1e-6, r.baseline.node_core_fraction))),
      ratio_to_floor: median(runs.map((r) => r.telemetry.node_core_fraction / Math.max(1e-6, r.floor.node_core_fraction))),
      budget_core_fraction: 0.01,
      within_budget: overhead < 0.01,
      work_within_budget: work < 0.01,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
