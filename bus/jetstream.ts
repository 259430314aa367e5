/**
 * Idempotent JetStream helpers: declare a stream or KV bucket and get the same result whether
 * it exists already or not. Only features nats-server 2.9 honours (see PLATFORM.md): no
 * per-message TTL, no compression, no subject transforms, one filter subject per consumer.
 */
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JsMsg, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { type KV, type KvOptions, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

type StreamDecl = Partial<StreamConfig> & { name: string; subjects: string[] };

function differs(want: StreamDecl, have: StreamConfig): boolean {
  return Object.entries(want).some(([k, v]) => JSON.stringify(v) !== JSON.stringify((have as unknown as Record<string, unknown>)[k]));
}

/** True for errors that pass once JetStream has (re-)elected its leaders. */
export function isTransientJetStreamError(err: unknown): boolean {
  return /timeout|temporarily unavailable|no responders|not enabled|no suitable peers|insufficient resources|leader/i.test(String((err as Error)?.message ?? err));
}

/**
 * Runs `op` until it succeeds or fails for good: right after a cluster forms or loses a
 * server, JetStream answers "temporarily unavailable" or not at all for a few seconds.
 */
export async function withJetStreamRetry<T>(op: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (let wait = 100; ; wait = Math.min(2000, wait * 2)) {
    try {
      return await op();
    } catch (err) {
      if (!isTransientJetStreamError(err) || Date.now() + wait > until) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Creates the stream, or updates it when its declared fields changed; returns its info (retrying through elections). */
export function ensureStream(nc: NatsConnection, decl: StreamDecl): Promise<StreamInfo> {
  return withJetStreamRetry(() => ensureStreamOnce(nc, decl));
}

async function ensureStreamOnce(nc: NatsConnection, decl: StreamDecl): Promise<StreamInfo> {
  const jsm = await jetstreamManager(nc);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(decl.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      return jsm.streams.add(decl);
    }
    throw err;
  }
  if (!differs(decl, info.config)) return info;
  return jsm.streams.update(decl.name, { ...info.config, ...decl });
}

/**
 * Creates or opens a KV bucket. Expiry is the bucket's `ttl` only (2.9 ignores per-key TTLs),
 * and direct reads are off by default so a read sees the previous write.
 */
export async function ensureKv(nc: NatsConnection, bucket: string, options: Partial<KvOptions> = {}, requestTimeoutMs?: number): Promise<KV> {
  // A request timeout shorter than the client's 5 s default, for callers (the lease) that must
  // not sit on one lost reply longer than their own deadline.
  const js = requestTimeoutMs === undefined ? nc : jetstream(nc, { timeout: requestTimeoutMs });
  return withJetStreamRetry(() => new Kvm(js).create(bucket, { allow_direct: false, ...options }));
}

/** The messages a stream holds under `filter` (from `since`, else all), in order, up to what it held when reading began (or until `signal`). */
export async function* storedMessages(nc: NatsConnection, stream: string, filter: string, since?: Date, signal?: AbortSignal): AsyncGenerator<JsMsg> {
  const start = since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() } : { deliver_policy: DeliverPolicy.All };
  const consumer = await withJetStreamRetry(() => jetstream(nc).consumers.get(stream, { filter_subjects: filter, ...start }));
  // What the filter held when the consumer was made is what is read. An empty fetch does not
  // end it by itself: a pull that expires (1 s) before a loaded server delivers would cut the
  // read short without a word; only the consumer saying nothing is pending does.
  const held = (await consumer.info(true)).num_pending;
  let read = 0;
  while (read < held && !signal?.aborted) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, held - read), expires: 1000 });
    let last: JsMsg | undefined;
    for await (const m of batch) {
      last = m;
      read++;
      yield m;
    }
    if (last ? last.info.pending === 0 : (await consumer.info()).num_pending === 0) return;
  }
}

/** storedMessages, collected. */
export async function readStored(nc: NatsConnection, stream: string, filter: string, signal?: AbortSignal): Promise<JsMsg[]> {
  const out: JsMsg[] = [];
  for await (const m of storedMessages(nc, stream, filter, undefined, signal)) out.push(m);
  // Stopped part-way, it is not what the stream holds.
  if (signal?.aborted) throw new Error('aborted');
  return out;
}
