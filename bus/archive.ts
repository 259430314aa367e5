/**
 * The durable copy of a live subject. Live messages go out on core NATS (which keeps flowing
 * while JetStream elects a leader); each is also appended here to a JetStream stream with a
 * message ID, in order (up to 64 in flight; after a partial failure a resent message may land
 * after later ones), retried until the stream acknowledges it. The server's duplicate
 * window drops a retry that had in fact landed, so an outage costs a delay, not a loss or a
 * duplicate. A bounded backlog (bytes) drops its oldest entries, counted, if an outage
 * outlasts it.
 */
import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '../supervisors/log.js';
import { silentLogger } from '../supervisors/log.js';
import { ensureStream } from './jetstream.js';
import type { Subjects } from './subjects.js';

export interface ArchiveOptions {
  /** Oldest messages kept by the stream (seconds; 0 = no age limit). */
  maxAgeS: number;
  /** Stream size limit (bytes); the oldest messages go first. */
  maxBytes: number;
  /** Replicas (1 on one server; 3 on a cluster, so the copy survives a server). */
  replicas: number;
  /** Backlog held while the stream is unavailable (bytes). */
  maxBacklogBytes: number;
  /** Duplicate window (seconds): a retry within it is recognised by its message ID. */
  duplicateWindowS: number;
}

/** Attempts the drain waits on at once (retries, and what came beyond the eager limit). */
const ARCHIVE_WINDOW = 64;
/**
 * First attempts written to the connection at append time, beyond which they wait for the
 * drain: a message seen live was then already sent to the stream before it (one connection
 * keeps order), so a writer killed right after has lost nothing the stream will not store.
 */
const EAGER_LIMIT = 4 * ARCHIVE_WINDOW;

export const DEFAULT_ARCHIVE: ArchiveOptions = { maxAgeS: 3600, maxBytes: 2 * 1024 ** 3, replicas: 1, maxBacklogBytes: 256 * 1024 ** 2, duplicateWindowS: 120 };

/** The archive stream's name for a subject prefix ("skyvox" → "SKYVOX_ARCHIVE"). */
export const archiveStreamName = (s: Subjects): string => `${s.prefix.toUpperCase().replace(/[.-]/g, '_')}_ARCHIVE`;

/** Declares the archive stream (idempotent). */
export async function ensureArchiveStream(nc: NatsConnection, s: Subjects, o: Partial<ArchiveOptions> = {}): Promise<void> {
  const a = { ...DEFAULT_ARCHIVE, ...o };
  await ensureStream(nc, {
    name: archiveStreamName(s),
    subjects: [s.archiveAll],
    max_age: a.maxAgeS * 1e9,
    max_bytes: a.maxBytes,
    num_replicas: a.replicas,
    duplicate_window: a.duplicateWindowS * 1e9,
  });
}

interface Pending {
  subject: string;
  data: Uint8Array;
  id: string;
  /** The attempt in flight, settled (never rejects). */
  sent?: Promise<PromiseSettledResult<PubAck>>;
}

/** Appends messages to the archive stream in order, through outages. */
export class ArchiveWriter {
  readonly #js: JetStreamClient;
  readonly #o: ArchiveOptions;
  readonly #log: Logger;
  #queue: Pending[] = [];
  #bytes = 0;
  #running = false;
  #closed = false;
  #failing = false;
  #eager = 0;
  /** Appended and acknowledged; dropped from a full backlog; acknowledged as duplicates. */
  readonly stats = { stored: 0, dropped: 0, duplicates: 0, retries: 0 };

  constructor(nc: NatsConnection, options: Partial<ArchiveOptions> = {}, log: Logger = silentLogger) {
    this.#js = jetstream(nc);
    this.#o = { ...DEFAULT_ARCHIVE, ...options };
    this.#log = log;
  }

  /** Queues one message; `id` must be the same if the same message is ever appended again. */
  append(subject: string, data: Uint8Array, id: string): void {
    if (this.#closed) return;
    const p: Pending = { subject, data, id };
    // While the stream fails, the drain's retries pace the attempts instead.
    if (!this.#failing && this.#eager < EAGER_LIMIT) {
      this.#eager++;
      p.sent = this.#send(p).finally(() => this.#eager--);
    }
    this.#queue.push(p);
    this.#bytes += data.byteLength;
    while (this.#bytes > this.#o.maxBacklogBytes && this.#queue.length > 1) {
      const old = this.#queue.shift()!;
      this.#bytes -= old.data.byteLength;
      this.stats.dropped++;
    }
    if (!this.#running) void this.#drain();
  }

  /** Messages waiting for the stream. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Waits (up to `timeoutMs`) for the backlog to empty, then stops appending. */
  async close(timeoutMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#queue.length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.#closed = true;
    if (this.#queue.length > 0) this.#log.warn({ unarchived: this.#queue.length }, 'archive: closing with messages not yet stored');
  }

  /** One attempt; its outcome, never a rejection. */
  #send(p: Pending): Promise<PromiseSettledResult<PubAck>> {
    return this.#js.publish(p.subject, p.data, { msgID: p.id, timeout: 2000 }).then(
      (value) => ({ status: 'fulfilled', value }),
      (reason: unknown) => ({ status: 'rejected', reason }),
    );
  }

  async #drain(): Promise<void> {
    this.#running = true;
    let backoff = 50;
    while (this.#queue.length > 0 && !this.#closed) {
      // Up to `window` publishes in flight, sent in order without waiting for each ack: one
      // at a time, a replicated stream's ack latency caps the rate below a tracker's.
      const batch = this.#queue.slice(0, ARCHIVE_WINDOW);
      const results = await Promise.all(batch.map((p) => (p.sent ??= this.#send(p))));
      let done = 0;
      for (const r of results) {
        if (r.status === 'rejected') break;
        if (r.value.duplicate) this.stats.duplicates++;
        else this.stats.stored++;
        done++;
      }
      // The acknowledged prefix leaves the queue (unless a full backlog already dropped it).
      for (const p of batch.slice(0, done)) {
        const i = this.#queue.indexOf(p);
        if (i >= 0) {
          this.#queue.splice(i, 1);
          this.#bytes -= p.data.byteLength;
        }
      }
      if (done === batch.length) {
        backoff = 50;
        if (this.#failing) this.#log.info({ backlog: this.#queue.length }, 'archive: stream reachable again, catching up');
        this.#failing = false;
        continue;
      }
      // From the first failure on, everything is sent again: what had landed comes back as a
      // duplicate (same ID), so nothing is stored twice; it may land after later messages.
      this.stats.retries++;
      const err = (results[done] as PromiseRejectedResult).reason as Error;
      if (!this.#failing) this.#log.warn({ err: err?.message, backlog: this.#queue.length }, 'archive: stream unavailable, holding messages');
      this.#failing = true;
      for (const p of this.#queue) delete p.sent;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(1000, backoff * 2);
    }
    this.#running = false;
  }
}
