/** `skyvox ctl NODE COMMAND [ACTOR]`: one control request, its reply printed. */
import { Bus } from '../bus/bus.js';
import { connectBus } from '../bus/connection.js';
import { CtlReply, CtlRequest } from '../schemas/ctl.js';
import type { Logger } from '../supervisors/log.js';
import { toJsonLine } from '../bus/json-lines.js';
import { natsTarget } from './nats-target.js';

export interface CtlOptions {
  nats?: string;
  user?: string;
  dataDir?: string;
  prefix?: string;
  timeout?: number;
  json?: boolean;
}

/** Sends the request; exit code 0 when the node said ok, 1 otherwise. */
export async function ctl(node: string, cmd: string, actor: string | undefined, o: CtlOptions, log: Logger): Promise<number> {
  const target = natsTarget(o, 'admin');
  const nc = await connectBus({ servers: target.servers, user: target.user, pass: target.pass, name: 'skyvox-ctl', reconnect: false });
  try {
    const bus = new Bus(nc, { prefix: target.prefix, receiver: 'skyvox-ctl', log });
    const reply = await bus.request(CtlRequest, CtlReply, bus.subjects.ctl(node), actor ? { cmd, actor } : { cmd }, o.timeout ?? 3000);
    if (o.json) process.stdout.write(`${toJsonLine(reply)}\n`);
    else if (!reply.ok) process.stdout.write(`${reply.node}: ${reply.error?.code}: ${reply.error?.message}\n`);
    else if (reply.actors) {
      process.stdout.write(`${'actor'.padEnd(20)} ${'kind'.padEnd(14)} ${'status'.padEnd(11)} restarts  uptime_s\n`);
      for (const a of reply.actors) {
        process.stdout.write(`${a.name.padEnd(20)} ${a.kind.padEnd(14)} ${a.status.padEnd(11)} ${String(a.restarts).padStart(8)}  ${a.uptime_s.toFixed(1).padStart(8)}\n`);
      }
    } else process.stdout.write(`${reply.node}: ${reply.message ?? 'ok'}\n`);
    return reply.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
}
