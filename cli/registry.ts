/** The actor kinds this build of skyvox can host. Each actor folder's factory is added here. */
import { replayerActor } from '../actors/replayer/replayer.js';
import { batchWorkerActor } from '../actors/batch-worker/batch-worker.js';
import { cameraActor } from '../actors/camera/camera-actor.js';
import { clockServerActor } from '../actors/clock-server/clock-server.js';
import { decoderActor } from '../actors/decoder/decoder-actor.js';
import { fusionActor } from '../actors/fusion/fusion-actor.js';
import { motionActor } from '../actors/motion/motion-actor.js';
import { trackerActor } from '../actors/tracker/tracker-actor.js';
import { voxelActor } from '../actors/voxel/voxel-actor.js';
import { recorderActor } from '../actors/recorder/recorder.js';
import { simulatorActor } from '../actors/simulator/simulator-actor.js';
import { ActorRegistry } from '../supervisors/registry.js';

/** A registry of every actor kind shipped with skyvox. */
export function actorRegistry(): ActorRegistry {
  return new ActorRegistry()
    .register('simulator', simulatorActor)
    .register('recorder', recorderActor)
    .register('camera', cameraActor)
    .register('decoder', decoderActor)
    .register('clock-server', clockServerActor)
    .register('motion', motionActor)
    .register('fusion', fusionActor)
    .register('voxel', voxelActor)
    .register('tracker', trackerActor, { handover: true })
    .register('replayer', replayerActor)
    .register('batch-worker', batchWorkerActor);
}
