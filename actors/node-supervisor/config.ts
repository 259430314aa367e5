/** A node's configuration: its name, telemetry rate and the actor tree it hosts. */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_PREFIX, subjectsFor } from '../../bus/subjects.js';
import { loadScenario } from '../../sim/scenario.js';
import { pipelineActors } from './pipeline.js';
import { RESTART_TYPES } from '../../supervisors/child.js';
import { OVERFLOW_POLICIES } from '../../supervisors/mailbox.js';
import { defineMessage, InvalidMessageError, oneOf, validate } from '../../schemas/message.js';
import { STRATEGIES } from '../../supervisors/supervisor.js';
import { PLACEMENT_STRATEGIES } from './placement.js';

const Name = (what: string) => Type.String({ pattern: '^[A-Za-z0-9_-]+$', description: `${what}: letters, digits, "_" or "-"` });

export const ActorConfigSchema = Type.Object(
  {
    name: Name('actor name, unique on the node'),
    kind: Type.String({ description: 'registered actor kind' }),
    restart: Type.Optional(oneOf(RESTART_TYPES)),
    shutdown_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    mailbox: Type.Optional(
      Type.Object({ capacity: Type.Integer({ minimum: 1 }), overflow: oneOf(OVERFLOW_POLICIES) }, { additionalProperties: false }),
    ),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    liveness: Type.Optional(
      Type.Object(
        {
          input: Type.String({ description: 'a subject the actor consumes' }),
          output: Type.String({ description: 'a subject the actor publishes on for each input' }),
          silence_ms: Type.Optional(Type.Integer({ minimum: 10, description: 'output silent this long while input flows: the actor is dead (default 500)' })),
        },
        { additionalProperties: false, description: 'cluster actors only: the coordinator moves the actor when its output stops while its input flows' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const NodeConfigSchema = Type.Object(
  {
    name: Name('node name'),
    prefix: Type.String({ default: DEFAULT_PREFIX }),
    allow_fault_injection: Type.Boolean({ default: false }),
    telemetry: Type.Object({ rate_hz: Type.Number({ exclusiveMinimum: 0, maximum: 50, default: 1 }) }, { additionalProperties: false, default: {} }),
    supervision: Type.Object(
      {
        strategy: oneOf(STRATEGIES),
        intensity: Type.Integer({ minimum: 0 }),
        period_ms: Type.Integer({ minimum: 1 }),
        backoff: Type.Optional(
          Type.Object({ min_ms: Type.Integer({ minimum: 0 }), max_ms: Type.Integer({ minimum: 0 }), jitter: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false, default: { strategy: 'one_for_one', intensity: 3, period_ms: 5000 } },
    ),
    actors: Type.Array(ActorConfigSchema, { default: [] }),
    archive_detections: Type.Optional(
      Type.Object(
        {
          max_age_s: Type.Integer({ minimum: 1, default: 3600, description: 'oldest detections kept in the stream <PREFIX>_DETECTIONS' }),
          max_bytes: Type.Integer({ minimum: 1, default: 4 * 1024 ** 3, description: 'size limit of the stream; the oldest go first' }),
          replicas: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: '3 on a 3-server NATS cluster' }),
        },
        { additionalProperties: false, description: 'keep every camera\'s detections in JetStream for `skyvox replay stream`' },
      ),
    ),
    cluster: Type.Optional(
      Type.Object(
        {
          heartbeat_ms: Type.Integer({ minimum: 10, default: 1000, description: 'heartbeat interval' }),
          missed: Type.Integer({ minimum: 1, default: 3, description: 'heartbeats that may lapse before a node is dead' }),
          coordinator: Type.Boolean({ default: true, description: 'this node may hold the coordinator lease' }),
          lease_ms: Type.Integer({ minimum: 30, default: 750, description: 'coordinator lease period: a dead coordinator is replaced within it' }),
          strategy: oneOf(PLACEMENT_STRATEGIES),
          replicas: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'replicas of the cluster KV buckets: 3 on a 3-server NATS cluster' }),
          rebalance_ms: Type.Integer({ minimum: 0, default: 10000, description: 'at most one planned move per this period, to a node that joined idle or away from an overloaded one (0: never)' }),
          overload_share: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.85, description: 'a node busier than this share of its cores gives its costliest actor away' }),
          cameras: Type.Array(Name('camera id'), { default: [], description: 'cameras wired to this node' }),
          actors: Type.Array(ActorConfigSchema, { default: [], description: 'actors the coordinator places on the cluster' }),
          pipeline: Type.Optional(
            Type.Object(
              {
                scenario: Type.String({ description: 'the rig: a built-in scenario name or a scenario file every node can read' }),
                voxel_shards: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'voxel actors, each owning a slab of the airspace' }),
                fusion: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'options of every fusion actor' })),
                voxel: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'options of every voxel actor' })),
                tracker: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'options of the tracker' })),
              },
              { additionalProperties: false, description: 'the pipeline after the sources (fusion per pair, voxel shards, tracker) added to `actors`; sources run where the cameras are (`skyvox node --scenario S --sources-only`)' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type NodeConfig = Static<typeof NodeConfigSchema>;
export type ActorConfig = Static<typeof ActorConfigSchema>;

const NodeConfigType = defineMessage('node config', NodeConfigSchema);

/** A configuration error; the message names the file, the field and what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function pipelineDefaults(cluster: unknown): Record<string, unknown> {
  const p = (cluster as { pipeline?: unknown } | null)?.pipeline;
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? { pipeline: { voxel_shards: 1, ...p } } : {};
}

function withDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  return {
    prefix: DEFAULT_PREFIX,
    allow_fault_injection: false,
    actors: [],
    ...raw,
    telemetry: { rate_hz: 1, ...(raw.telemetry as object | undefined) },
    supervision: { strategy: 'one_for_one', intensity: 3, period_ms: 5000, ...(raw.supervision as object | undefined) },
    ...(raw.archive_detections === undefined ? {} : { archive_detections: { max_age_s: 3600, max_bytes: 4 * 1024 ** 3, replicas: 1, ...(raw.archive_detections as object) } }),
    ...(raw.cluster === undefined ? {} : { cluster: { heartbeat_ms: 1000, missed: 3, coordinator: true, lease_ms: 750, strategy: 'load', replicas: 1, rebalance_ms: 10000, overload_share: 0.85, cameras: [], actors: [], ...(raw.cluster as object), ...pipelineDefaults(raw.cluster) } }),
  };
}

/** Validates a node configuration object (defaults filled in); `source` prefixes errors. */
export function parseNodeConfig(raw: unknown, source = 'config'): NodeConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source}: expected a mapping of node settings`);
  let config: NodeConfig;
  try {
    config = validate(NodeConfigType, withDefaults(raw as Record<string, unknown>));
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new ConfigError(`${source}: ${err.reason}`);
    throw err;
  }
  if (config.cluster?.pipeline) expandPipeline(config, source);
  const seen = new Set<string>();
  config.actors.forEach((a, i) => {
    if (a.liveness) throw new ConfigError(`${source}: actors[${i}].liveness: only cluster.actors are watched (the coordinator moves them), got one on a local actor`);
    if (seen.has(a.name)) throw new ConfigError(`${source}: actors[${i}].name: expected a unique name, "${a.name}" is used twice`);
    seen.add(a.name);
  });
  return config;
}

/** Adds `cluster.pipeline`'s actors to `cluster.actors`: the tracker watched for liveness, its and the voxel stage's stores replicated like the cluster's. */
function expandPipeline(config: NodeConfig, source: string): void {
  const cluster = config.cluster!;
  const p = cluster.pipeline!;
  let scenario;
  try {
    scenario = loadScenario(p.scenario);
  } catch (err) {
    throw new ConfigError(`${source}: cluster.pipeline.scenario: ${(err as Error).message}`);
  }
  const actors = pipelineActors(scenario, { ...p, voxel: { replicas: cluster.replicas, ...p.voxel }, tracker: { replicas: cluster.replicas, ...p.tracker } }, subjectsFor(config.prefix));
  for (const a of actors) {
    if (cluster.actors.some((b) => b.name === a.name)) throw new ConfigError(`${source}: cluster.actors: the name "${a.name}" is taken by cluster.pipeline's actor of that name`);
  }
  cluster.actors.push(...actors);
  // Expanded once: a configuration parsed again (with actors added) must not add them twice.
  delete cluster.pipeline;
}

/** Reads a YAML node configuration file. */
export function loadNodeConfig(file: string, overrides: Record<string, unknown> = {}): NodeConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  return parseNodeConfig({ ...(raw as object), ...overrides }, file);
}
