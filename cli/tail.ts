/**
 * `skyvox tail SUBJECT|ALIAS`: print every message of a subject, decoded. With `--since`,
 * tracks and events come from the archive stream instead: from that time, then following it.
 */
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { archiveStreamName } from '../bus/archive.js';
import { UsageError } from './errors.js';
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
  since?: string;
}

/** `--since` as a start time in ms since the epoch, or 'start' for the whole archive. */
export function parseSince(since: string, nowMs: number): number | 'start' {
  if (since === 'start') return 'start';
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(since);
  if (m) return nowMs - Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(since);
  if (/^\d{4}-\d{2}-\d{2}/.test(since) && Number.isFinite(t)) return t;
  throw new UsageError(`--since: expected a duration (30s, 10m, 2h, 1d), an ISO time (2026-11-29T13:00:00Z) or "start", got ${JSON.stringify(since)}`);
}

/** Subscribes and prints until Ctrl-C or `count` messages; returns the exit code. */
export async function tail(subjectOrAlias: string, o: TailOptions, log: Logger): Promise<number> {
  const target = natsTarget(o, 'admin');
  const s = subjectsFor(target.prefix);
  const subject = resolveAlias(s, subjectOrAlias);
  const start = o.since === undefined ? undefined : parseSince(o.since, Date.now());
  if (start !== undefined && subject !== s.tracks && subject !== s.trackEvents) throw new UsageError(`--since: only ${s.tracks} and ${s.trackEvents} are archived, got ${subject}`);
  const nc = await connectBus({ servers: target.servers, user: target.user, pass: target.pass, name: 'skyvox-tail' });
  const shutdown = new Shutdown(log);
  shutdown.add('nats connection', () => nc.close());
  let seen = 0;
  let undecodable = 0;
  /** Prints one message; false once `count` is reached. */
  const print = (name: string, data: Uint8Array): boolean => {
    if (o.count !== undefined && seen >= o.count) return false;
    let value: unknown;
    try {
      value = decode(data);
    } catch (e) {
      undecodable++;
      process.stderr.write(`${name}: ${(e as Error).message} (${data.byteLength} bytes)\n`);
      return true;
    }
    process.stdout.write(`${o.json ? toJsonLine({ subject: name, data: value }) : toHumanLine(name, value)}\n`);
    if (o.count !== undefined && ++seen >= o.count) {
      shutdown.request('count reached');
      return false;
    }
    return true;
  };
  if (start !== undefined) {
    const consumer = await jetstream(nc).consumers.get(archiveStreamName(s), {
      filter_subjects: s.archiveOf(subject),
      ...(start === 'start' ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start).toISOString() }),
    });
    const messages = await consumer.consume({ expires: 5000 });
    shutdown.add('archive consumer', () => messages.stop());
    void (async () => {
      for await (const m of messages) if (!print(s.liveOf(m.subject), m.data)) break;
    })().catch((err: Error) => {
      process.stderr.write(`skyvox tail: archive: ${err.message}\n`);
      shutdown.request('archive error');
    });
    log.debug({ subject, since: o.since }, 'replaying the archive');
    await shutdown.requested;
    await shutdown.run();
    return 0;
  }
  const sub = nc.subscribe(subject, {
    max: o.count,
    callback: (err, msg) => {
      if (err) {
        log.error({ err, subject }, 'subscription refused');
        shutdown.request('subscription error');
        return;
      }
      print(msg.subject, msg.data);
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
