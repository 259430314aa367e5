/**
 * The detection archive: a JetStream stream over every camera's `skyvox.det.<cam>`. The server
 * stores what the motion actors publish on core NATS — no publisher waits for it, live
 * detections flow on while JetStream elects a leader — so a past incident can be re-run
 * through the pipeline (`skyvox replay stream --since 10m`).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { ensureStream } from './jetstream.js';
import type { Subjects } from './subjects.js';

export interface DetectionArchiveOptions {
  /** Oldest detections kept (seconds). */
  max_age_s: number;
  /** Stream size limit (bytes); the oldest go first. */
  max_bytes: number;
  /** Replicas (3 on a 3-server cluster). */
  replicas: number;
}

export const DEFAULT_DETECTION_ARCHIVE: DetectionArchiveOptions = { max_age_s: 3600, max_bytes: 4 * 1024 ** 3, replicas: 1 };

/** The stream's name for a subject prefix ("skyvox" → "SKYVOX_DETECTIONS"). */
export const detectionStreamName = (s: Subjects): string => `${s.prefix.toUpperCase().replace(/[.-]/g, '_')}_DETECTIONS`;

/** Every camera's detection subject (the stream's filter). */
export const detectionSubjects = (s: Subjects): string => `${s.prefix}.det.>`;

/** Declares the detection archive (idempotent). */
export async function ensureDetectionArchive(nc: NatsConnection, s: Subjects, o: Partial<DetectionArchiveOptions> = {}): Promise<void> {
  const a = { ...DEFAULT_DETECTION_ARCHIVE, ...o };
  await ensureStream(nc, { name: detectionStreamName(s), subjects: [detectionSubjects(s)], max_age: a.max_age_s * 1e9, max_bytes: a.max_bytes, num_replicas: a.replicas });
}
