/** Subject names: the one place that knows how skyvox subjects are spelled. */

export const DEFAULT_PREFIX = 'skyvox';

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Error for a name that cannot be one token of a NATS subject. */
export class InvalidSubjectTokenError extends Error {
  override name = 'InvalidSubjectTokenError';
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(
      `Expected ${field} to be a subject token of letters, digits, "_" or "-" but received ${JSON.stringify(value)}`,
    );
  }
}

/** Throws unless `value` is usable as one subject token (no dots, wildcards or spaces). */
export function assertToken(field: string, value: string): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) throw new InvalidSubjectTokenError(field, value);
  return value;
}

/** Throws unless `prefix` is one or more dot-separated tokens. */
export function assertPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !prefix.split('.').every((t) => TOKEN.test(t))) {
    throw new InvalidSubjectTokenError('prefix', prefix);
  }
  return prefix;
}

/** All subjects of one skyvox site, derived from its prefix. */
export function subjectsFor(prefix: string = DEFAULT_PREFIX) {
  const p = assertPrefix(prefix);
  return {
    prefix: p,
    all: `${p}.>`,
    tracks: `${p}.tracks`,
    trackEvents: `${p}.track.events`,
    dead: `${p}.dead`,
    /** The durable copies of tracks and events (JetStream stream, message IDs, in order). */
    archiveAll: `${p}.archive.>`,
    archiveOf: (live: string) => `${p}.archive.${live.slice(p.length + 1)}`,
    liveOf: (archived: string) => `${p}.${archived.slice(p.length + '.archive.'.length)}`,
    meas: `${p}.meas`,
    /** Voxel shard `index`'s part of each instant's measurements; the tracker gathers them. */
    measShard: (index: number) => `${p}.meas.shard.${index}`,
    measShards: `${p}.meas.shard.*`,
    simTruth: `${p}.sim.truth`,
    /** The site time server (NTP-style four-stamp exchange). */
    clock: `${p}.clock`,
    telemetryAll: `${p}.telemetry.>`,
    /** Node-level record (CPU, memory) of one node. */
    telemetryNode: (node: string) => `${p}.telemetry.${assertToken('node', node)}`,
    telemetryActor: (node: string, actor: string) =>
      `${p}.telemetry.${assertToken('node', node)}.${assertToken('actor', actor)}`,
    ctl: (node: string) => `${p}.ctl.${assertToken('node', node)}`,
    /** What a node's watched actors last received and sent (NodePulse): the coordinators' liveness feed. */
    pulse: (node: string) => `${p}.pulse.${assertToken('node', node)}`,
    pulseAll: `${p}.pulse.*`,
    frame: (cam: string) => `${p}.frame.${assertToken('camera', cam)}`,
    det: (cam: string) => `${p}.det.${assertToken('camera', cam)}`,
    fused: (pair: string) => `${p}.fused.${assertToken('pair', pair)}`,
    fusedAll: `${p}.fused.*`,
    pose: (cam: string) => `${p}.pose.${assertToken('camera', cam)}`,
    /** `skyvox process`: tasks on the work-queue stream, one subject per task. */
    work: {
      all: `${p}.work.>`,
      task: (job: string, task: string) => `${p}.work.${assertToken('job', job)}.${assertToken('task', task)}`,
    },
    /** `skyvox process`: a job's results and progress records (results stream). */
    batch: {
      all: `${p}.batch.>`,
      job: (job: string) => `${p}.batch.${assertToken('job', job)}.>`,
      detAll: (job: string) => `${p}.batch.${assertToken('job', job)}.det.>`,
      det: (job: string, cam: string) => `${p}.batch.${assertToken('job', job)}.det.${assertToken('camera', cam)}`,
      tracks: (job: string) => `${p}.batch.${assertToken('job', job)}.tracks`,
      events: (job: string) => `${p}.batch.${assertToken('job', job)}.events`,
      record: (job: string) => `${p}.batch.${assertToken('job', job)}.record`,
    },
    /** JetStream KV buckets of the cluster (bucket names cannot hold dots). */
    kv: {
      /** Heartbeats, key = node. */
      nodes: `${p.replace(/\./g, '_')}_nodes`,
      /** The coordinator lease (key `coordinator`). */
      cluster: `${p.replace(/\./g, '_')}_cluster`,
      /** Placement orders, key = actor. */
      assign: `${p.replace(/\./g, '_')}_assign`,
      /** Actor checkpoints, key = actor. */
      state: `${p.replace(/\./g, '_')}_state`,
    },
  } as const;
}

export type Subjects = ReturnType<typeof subjectsFor>;

/** Short names accepted by `skyvox tail`. */
export const SUBJECT_ALIASES = ['tracks', 'events', 'telemetry', 'dead'] as const;
export type SubjectAlias = (typeof SUBJECT_ALIASES)[number];

/** Resolves a `tail` alias to its subject; anything else is taken as a subject as it is. */
export function resolveAlias(s: Subjects, nameOrSubject: string): string {
  switch (nameOrSubject as SubjectAlias) {
    case 'tracks':
      return s.tracks;
    case 'events':
      return s.trackEvents;
    case 'telemetry':
      return s.telemetryAll;
    case 'dead':
      return s.dead;
    default:
      return nameOrSubject;
  }
}

/** Whether NATS would deliver `subject` (or every subject `subject` stands for, if a pattern) to a subscription on `pattern` (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || s[i] === '>' || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
