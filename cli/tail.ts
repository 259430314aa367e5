/** `skyvox tail SUBJECT|ALIAS`: print every message of a subject, decoded. */
import { connectBus } from '../bus/connection.js';
import { decode } from '../bus/codec.js';
import { resolveAlias, subjectsFor } from '../bus/subjects.js';
import type { Logger } from '../supervisors/log.js';
import { toHumanLine, toJsonLine } from '../bus/json-lines.js';
import { natsTarget } from './nats-target.js';
import { Shutdown } from './shutdown.js';

export interface TailOptions {
  json?: boolean;
  nats?: string;
  user?: string;
  dataDir?: string;
  prefix?: string;
  count?: number;
}

/** Subscribes and prints until Ctrl-C or `count` messages; returns the exit code. */
export async function tail(subjectOrAlias: string, o: TailOptions, log: Logger): Promise<number> {
  const target = natsTarget(o, 'admin');
  const subject = resolveAlias(subjectsFor(target.prefix), subjectOrAlias);
  const nc = await connectBus({ servers: target.servers, user: target.user, pass: target.pass, name: 'skyvox-tail' });
  const shutdown = new Shutdown(log);
  shutdown.add('nats connection', () => nc.close());
  let seen = 0;
  let undecodable = 0;
  const sub = nc.subscribe(subject, {
    max: o.count,
    callback: (err, msg) => {
      if (err) {
        log.error({ err, subject }, 'subscription refused');
        shutdown.request('subscription error');
        return;
      }
      if (o.count !== undefined && seen >= o.count) return;
      let value: unknown;
      try {
        value = decode(msg.data);
      } catch (e) {
        undecodable++;
        process.stderr.write(`${msg.subject}: ${(e as Error).message} (${msg.data.byteLength} bytes)\n`);
        return;
      }
      process.stdout.write(`${o.json ? toJsonLine({ subject: msg.subject, data: value }) : toHumanLine(msg.subject, value)}\n`);
      if (o.count !== undefined && ++seen >= o.count) shutdown.request('count reached');
    },
  });
  let failed = false;
  void sub.closed.then((err) => {
    if (err) {
      failed = true;
      process.stderr.write(`skyvox tail: ${subject}: ${err.message}\n`);
      shutdown.request('subscription closed');
    }
  });
  void nc.closed().then(() => shutdown.request('connection closed'));
  await nc.flush();
  log.debug({ subject, servers: target.servers, user: target.user }, 'tailing');
  await shutdown.requested;
  await shutdown.run();
  if (undecodable > 0) log.warn({ undecodable }, 'some messages were not MessagePack');
  return failed ? 1 : 0;
}
