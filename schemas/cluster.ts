import { Type } from '@sinclair/typebox';
import { ACTOR_STATUSES } from './telemetry.js';
import { defineMessage, oneOf, TimeNs } from './message.js';

/**
 * KV `<prefix>_nodes`, key = node name: a node's heartbeat, rewritten every `interval_ms`.
 * A node whose record is older than `missed` intervals is dead.
 */
export const NodeHeartbeat = defineMessage(
  'NodeHeartbeat',
  Type.Object({
    t_ns: TimeNs(),
    node: Type.String(),
    seq: Type.Integer({ minimum: 0, description: 'heartbeats since the node started' }),
    interval_ms: Type.Integer({ minimum: 1 }),
    missed: Type.Integer({ minimum: 1, description: 'heartbeats that may lapse before the node counts as dead' }),
    pid: Type.Integer(),
    host: Type.String(),
    cores: Type.Integer({ minimum: 0 }),
    cpu_percent: Type.Number({ minimum: 0, description: 'process CPU over the last interval, % of one core' }),
    rss_bytes: Type.Integer({ minimum: 0 }),
    mem_free_bytes: Type.Integer({ minimum: 0 }),
    gpu: Type.Union([Type.String(), Type.Null()], { description: 'the GPU the native core uses, or null' }),
    cameras: Type.Array(Type.String(), { description: 'cameras wired to this node: their pipelines stay here' }),
    coordinator: Type.Boolean({ description: 'may hold the coordinator lease' }),
    nats_server: Type.Optional(Type.String({ description: 'host:port of the NATS server the node is connected to' })),
    actors: Type.Array(
      Type.Object({
        name: Type.String(),
        kind: Type.String(),
        status: oneOf(ACTOR_STATUSES),
        cost: Type.Number({ minimum: 0, description: 'share of one core spent handling messages over the last interval' }),
      }),
    ),
  }),
);

/** KV `<prefix>_cluster`, key `coordinator`: who coordinates; `term` fences older holders. */
export const CoordinatorLease = defineMessage(
  'CoordinatorLease',
  Type.Object({
    holder: Type.String(),
    term: Type.Integer({ minimum: 1, description: 'the KV revision at which the holder took the lease: larger is newer' }),
    renewed_ns: TimeNs(),
    lease_ms: Type.Integer({ minimum: 1 }),
  }),
);

/** KV `<prefix>_assign`, key = actor name: the node that must run it, under the coordinator's term. */
export const Assignment = defineMessage(
  'Assignment',
  Type.Object({
    actor: Type.String(),
    node: Type.String(),
    term: Type.Integer({ minimum: 1, description: 'lease term of the coordinator that made it; nodes refuse terms older than one they have seen' }),
    t_ns: TimeNs(),
    spec: Type.Object({ name: Type.String(), kind: Type.String(), restart: Type.Optional(Type.String()), options: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
    handover_from: Type.Optional(Type.String({ description: 'a planned move: the node it runs on now, which stops it once the new one stands by' })),
  }),
);

const AgeMs = (description: string) => Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description });

/**
 * `<prefix>.pulse.<node>`, several times a liveness silence period: for each watched actor the
 * node runs (a cluster actor with `liveness`), how long ago a message last arrived on its input
 * subject and left on its output subject. Coordinators judge liveness from these instead of
 * receiving the data subjects themselves.
 */
export const NodePulse = defineMessage(
  'NodePulse',
  Type.Object({
    t_ns: TimeNs(),
    node: Type.String(),
    actors: Type.Array(
      Type.Object({
        name: Type.String(),
        input_age_ms: AgeMs('since a message last arrived on its liveness input (null: none yet)'),
        output_age_ms: AgeMs('since it last published on its liveness output (null: not yet)'),
      }),
    ),
  }),
);
