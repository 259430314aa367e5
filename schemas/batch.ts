import { Type } from '@sinclair/typebox';
import { defineMessage, oneOf, TimeNs } from './message.js';

export const BATCH_TASK_KINDS = ['motion', 'track'] as const;

/**
 * `skyvox.work.<job>.<task>` (work-queue stream): one unit of a `skyvox process` job.
 * `motion`: one camera's video, frames [from, to) (of its index) published, the `warmup`
 * frames before them only prime the background model. `track`: the job's detections through
 * fusion, voxel and tracker, once every motion task is done.
 */
export const BatchTask = defineMessage(
  'BatchTask',
  Type.Object({
    job: Type.String(),
    task: Type.String(),
    kind: oneOf(BATCH_TASK_KINDS),
    cam: Type.Optional(Type.String({ description: 'motion: the camera' })),
    video: Type.Optional(Type.String({ description: 'motion: the video file (a path every worker can read)' })),
    index: Type.Optional(Type.String({ description: 'motion: its frame index, one "seq t_ns" line per frame' })),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'motion: first frame (index line) whose detections are published' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'motion: end frame, exclusive' })),
    warmup: Type.Optional(Type.Integer({ minimum: 0, description: 'motion: frames before `from` that prime the background' })),
    scenario: Type.Optional(Type.String({ description: 'track: the rig (scenario YAML text)' })),
    ack_wait_s: Type.Number({ exclusiveMinimum: 0, description: 'the queue\'s ack wait when the job was submitted: the worker extends the task well within it' }),
    max_deliver: Type.Integer({ minimum: 1, description: 'deliveries before the task is given up: the last one writes the failed record' }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'stage settings: motion, fusion, voxel, tracker' })),
  }),
  (t) =>
    t.kind === 'motion'
      ? t.cam && t.video && t.index && t.from !== undefined && t.to !== undefined
        ? undefined
        : 'a motion task needs cam, video, index, from and to'
      : t.scenario
        ? undefined
        : 'a track task needs scenario',
);

/** `skyvox.batch.<job>.started|done|failed`: a task's progress, as workers and the job report it. */
export const BatchRecord = defineMessage(
  'BatchRecord',
  Type.Object({
    t_ns: TimeNs(),
    job: Type.String(),
    task: Type.String(),
    event: oneOf(['started', 'done', 'failed'] as const),
    node: Type.String({ description: 'the worker\'s node ("" when the job itself reports)' }),
    worker: Type.String(),
    attempt: Type.Integer({ minimum: 1, description: 'delivery number of the task (at most max_deliver)' }),
    items: Type.Integer({ minimum: 0, description: 'done: detection frames (motion) or scans (track) published' }),
    ms: Type.Number({ minimum: 0, description: 'done: processing time' }),
    reason: Type.String({ description: 'failed: why' }),
  }),
);
