/**
 * The streams of batch work (`skyvox process`). Tasks go to a work-queue stream, one durable
 * pull consumer shared by every worker: a task is delivered to one worker at a time, comes
 * back after `ack_wait` if its worker dies or stalls (workers extend it while busy), and is
 * given up after `max_deliver` deliveries — the job then writes a `failed` record. Results and
 * progress records go to a second stream (limits retention), with message IDs so a redone
 * task's output is stored once.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ensureStream, withJetStreamRetry } from './jetstream.js';
import type { Subjects } from './subjects.js';

export interface WorkQueueOptions {
  /** A task not acknowledged (nor extended) within this comes back (seconds). */
  ackWaitS: number;
  /** Deliveries of a task before it is given up. */
  maxDeliver: number;
  /** Replicas of both streams (3 on a 3-server cluster). */
  replicas: number;
  /** How long results and records are kept (seconds). */
  resultsMaxAgeS: number;
  /** Duplicate window of the results stream (seconds): a redone task's output within it is stored once. */
  duplicateWindowS: number;
}

export const DEFAULT_WORK_QUEUE: WorkQueueOptions = { ackWaitS: 30, maxDeliver: 3, replicas: 1, resultsMaxAgeS: 86_400, duplicateWindowS: 3600 };

const streamPrefix = (s: Subjects) => s.prefix.toUpperCase().replace(/[.-]/g, '_');
/** The work-queue stream's name ("skyvox" → "SKYVOX_WORK"). */
export const workStreamName = (s: Subjects) => `${streamPrefix(s)}_WORK`;
/** The results stream's name ("skyvox" → "SKYVOX_BATCH"). */
export const batchStreamName = (s: Subjects) => `${streamPrefix(s)}_BATCH`;
/** The workers' shared durable consumer. */
export const WORKERS_CONSUMER = 'workers';
/** The advisory the server sends when a task reaches max_deliver without an ack. */
export const maxDeliveriesAdvisory = (s: Subjects) => `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${workStreamName(s)}.${WORKERS_CONSUMER}`;

/** Declares both streams and the workers' consumer (idempotent; `impose` changes an existing consumer's ack_wait and max_deliver to those given); returns the settings in force. */
export async function ensureWorkQueue(nc: NatsConnection, s: Subjects, options: Partial<WorkQueueOptions> = {}, mode: 'adopt' | 'impose' = 'adopt'): Promise<WorkQueueOptions> {
  const o = { ...DEFAULT_WORK_QUEUE, ...options };
  await ensureStream(nc, { name: workStreamName(s), subjects: [s.work.all], retention: RetentionPolicy.Workqueue, num_replicas: o.replicas });
  await ensureStream(nc, { name: batchStreamName(s), subjects: [s.batch.all], max_age: o.resultsMaxAgeS * 1e9, num_replicas: o.replicas, duplicate_window: o.duplicateWindowS * 1e9 });
  return withJetStreamRetry(async () => {
    const jsm = await jetstreamManager(nc);
    try {
      let c = (await jsm.consumers.info(workStreamName(s), WORKERS_CONSUMER)).config;
      // A job imposes the settings it was given; workers adopt what is there.
      const want = mode === 'adopt' ? {} : { ...(options.ackWaitS !== undefined ? { ack_wait: options.ackWaitS * 1e9 } : {}), ...(options.maxDeliver !== undefined ? { max_deliver: options.maxDeliver } : {}) };
      if (Object.entries(want).some(([k, v]) => (c as unknown as Record<string, unknown>)[k] !== v)) c = (await jsm.consumers.update(workStreamName(s), WORKERS_CONSUMER, want)).config;
      return { ...o, ackWaitS: (c.ack_wait ?? o.ackWaitS * 1e9) / 1e9, maxDeliver: c.max_deliver ?? o.maxDeliver };
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    }
    await jsm.consumers.add(workStreamName(s), {
      durable_name: WORKERS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: o.ackWaitS * 1e9,
      max_deliver: o.maxDeliver,
      filter_subject: s.work.all,
      num_replicas: o.replicas,
    });
    return o;
  });
}

