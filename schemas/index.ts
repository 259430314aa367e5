/** Every message type on the wire, for JSON Schema export and cross-language tests. */
import { CtlReply, CtlRequest } from './ctl.js';
import { DeadLetter } from './dead-letter.js';
import type { MessageType } from './message.js';
import { ActorTelemetry, NodeTelemetry } from './telemetry.js';
import { DetectionFrame } from './detections.js';
import { SimTruth } from './truth.js';
import { FrameDescriptor } from './frame.js';
import { ClockReply, ClockRequest } from './clock.js';
import { FusedFrame } from './fused.js';
import { Measurements } from './measurement.js';
import { TrackEvent, Tracks } from './tracks.js';
import { BatchRecord, BatchTask } from './batch.js';
import { NodePulse } from './cluster.js';
import { LearnedTurns } from './calibration.js';

export const MESSAGE_TYPES: readonly MessageType[] = [DeadLetter, ActorTelemetry, NodeTelemetry, CtlRequest, CtlReply, DetectionFrame, SimTruth, FrameDescriptor, ClockRequest, ClockReply, FusedFrame, Measurements, Tracks, TrackEvent, BatchTask, BatchRecord, NodePulse, LearnedTurns];
