import { Type } from '@sinclair/typebox';
import { defineMessage, oneOf, TimeNs } from './message.js';

/** Statuses an actor reports. */
export const ACTOR_STATUSES = ['starting', 'running', 'stopping', 'stopped', 'crashed', 'restarting', 'abandoned'] as const;
export type ActorStatus = (typeof ACTOR_STATUSES)[number];

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** `skyvox.telemetry.<node>.<actor>`: one actor's counters, sent at the node's telemetry rate. */
export const ActorTelemetry = defineMessage(
  'ActorTelemetry',
  Type.Object({
    t_ns: TimeNs(),
    node: Type.String(),
    actor: Type.String(),
    kind: Type.String(),
    status: oneOf(ACTOR_STATUSES),
    restarts: Count('restarts since the node started'),
    uptime_s: Type.Number({ minimum: 0, description: 'seconds since the current incarnation started' }),
    msgs_in: Count('messages handled (cumulative)'),
    msgs_out: Count('messages published (cumulative)'),
    errors: Count('handler errors and crashes (cumulative)'),
    dropped: Count('messages dropped or refused by a full mailbox (cumulative)'),
    invalid: Count('messages refused at the boundary and dead-lettered (cumulative)'),
    mailbox_depth: Count('messages waiting now'),
    latency_ms: Type.Object(
      { p50: Type.Number({ minimum: 0 }), p99: Type.Number({ minimum: 0 }) },
      { description: 'enqueue-to-handled latency over the recent window (0 when idle)' },
    ),
  }),
);

/** `skyvox.telemetry.<node>`: the node process itself. */
export const NodeTelemetry = defineMessage(
  'NodeTelemetry',
  Type.Object({
    t_ns: TimeNs(),
    node: Type.String(),
    pid: Type.Integer(),
    uptime_s: Type.Number({ minimum: 0 }),
    cpu_percent: Type.Number({ minimum: 0, description: 'process CPU over the last second or so (sampled at most once a second), % of one core' }),
    rss_bytes: Count('resident memory of the process'),
    heap_used_bytes: Count('V8 heap in use'),
    mem_free_bytes: Count('free memory of the machine'),
    mem_total_bytes: Count('memory of the machine'),
    load1: Type.Number({ description: 'one-minute load average of the machine' }),
    cores: Count('logical cores of the machine'),
    actors: Count('actors hosted'),
  }),
);
