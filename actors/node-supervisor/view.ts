import type { ActorStatus } from '../../schemas/telemetry.js';
import type { ActorStats } from '../../supervisors/actor.js';

/** One actor as the node-supervisor sees it, for `list` and telemetry. */
export interface ActorView {
  name: string;
  kind: string;
  status: ActorStatus;
  restarts: number;
  uptimeS: number;
  mailboxDepth: number;
  stats: ActorStats | undefined;
}
