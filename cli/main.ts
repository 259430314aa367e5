/** The `skyvox` command. Exit codes: 0 ok, 1 runtime failure, 2 usage. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BusConnectError, } from '../bus/connection.js';
import { CredentialsError } from '../bus/credentials.js';
import { NatsServerNotFoundError, NatsServerStartError } from '../bus/nats-server.js';
import { SUBJECT_ALIASES, InvalidSubjectTokenError } from '../bus/subjects.js';
import { ConfigError } from '../actors/node-supervisor/config.js';
import { builtinScenarios, loadScenario, ScenarioError } from '../sim/scenario.js';
import { MESSAGE_TYPES } from '../schemas/index.js';
import { toJsonSchema } from '../schemas/message.js';
import { createLogger } from '../supervisors/log.js';
import { bench, BENCHES } from './bench.js';
import { ctl } from './ctl.js';
import { evalCommand } from './eval.js';
import { nativeInfo } from '../kernels/native.js';
import { EXIT, UsageError } from './errors.js';
import { runNode } from './run-node.js';
import { parseSince, tail } from './tail.js';
import { natsTarget } from './nats-target.js';
import type { StreamSource } from '../actors/replayer/replayer.js';
import { nodes } from './nodes.js';
import { server } from './server.js';
import { processCommand } from './process.js';
import { detectCommand } from './detect.js';

const integer = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected an integer from ${min} to ${max} for ${name} but received "${v}"`);
  return n;
};
const positive = (name: string, max = Number.MAX_VALUE) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new InvalidArgumentError(`Expected a number in (0, ${max}] for ${name} but received "${v}"`);
  return n;
};

const nonNegative = (name: string, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`Expected a number in [0, ${max}] for ${name} but received "${v}"`);
  return n;
};

const natsClientOptions = (cmd: Command) =>
  cmd
    .option('--nats <url>', 'NATS server URL(s), comma-separated (default: the local `skyvox up`, else nats://127.0.0.1:4222)')
    .option('--user <name>', 'NATS user: node, viewer or admin', 'admin')
    .option('--data-dir <dir>', 'where credentials.json and runtime.json live (default $SKYVOX_DATA_DIR or ./.skyvox)')
    .option('--prefix <prefix>', 'subject prefix (default: that of the local `skyvox up`, else skyvox)');

const nodeOptions = (cmd: Command) =>
  cmd
    .option('--name <name>', 'node name (default: the host name)')
    .option('--config <file>', 'node configuration (YAML): actors, supervision, telemetry')
    .option('--prefix <prefix>', 'subject prefix', undefined)
    .option('--data-dir <dir>', 'data directory (default $SKYVOX_DATA_DIR or ./.skyvox)')
    .option('--telemetry-hz <rate>', 'telemetry records per second (up to 50)', positive('--telemetry-hz', 50))
    .option('--allow-fault-injection', 'accept `crash` control requests')
    .option('--duration <seconds>', 'stop after this many seconds', positive('--duration'))
    .option('--actor-totals <file>', 'at the end, write each of this node\'s actors\' counters (msgs_in, msgs_out, dropped, invalid, errors, restarts) to this JSON file (--record writes them to DIR/actors.json)')
    .option('--batch-workers <n>', 'batch workers on this node: they take `skyvox process` tasks when free', integer('--batch-workers', 0, 64))
    .option('--archive-detections', 'keep every camera\'s detections in JetStream (1 h, 4 GiB; config archive_detections) for `skyvox replay stream`');

/** Running a scenario: on `up` (the whole pipeline) and on `node` (the whole pipeline, or its sources for a cluster). */
const scenarioOptions = (cmd: Command) =>
  cmd
    .option('--scenario <name|file>', 'run a simulated scenario (see `skyvox scenarios`); --duration defaults to its length')
    .option('--speed <x>', 'scenario playback speed (1 = real time)', positive('--speed', 1000))
    .option('--voxel-shards <n>', 'voxel actors, each owning a slab of the airspace (default 1)', integer('--voxel-shards', 1, 64))
    .option('--options <file>', 'stage settings (YAML): motion, fusion, voxel, tracker (e.g. tracker: {association: jpda})')
    .option('--warm-up <seconds>', 'before the scenario\'s clock starts, run this process\'s stages on that much of its synthetic detections, then on half as much from its start again (with --sources-only: make that much of its detections), so the first frames meet compiled code (0 = off)', nonNegative('--warm-up', 60), 1)
    .option('--sources-only', 'run only the scenario\'s sources (simulator, cameras, motion) and the recorder here: a cluster\'s placed actors (cluster.pipeline) do the rest')
    .addOption(new Option('--sources <where>', 'where the scenario\'s sources (simulator, cameras) play: "process" — a `skyvox node --sources-only` process this run starts and stops, as a site\'s cameras are apart from its pipeline; "inline" — this process (default: process in detection mode, inline in pixel mode, where cameras share frame memory with the motion actors)').choices(['inline', 'process']))
    .option('--record <dir>', 'write truth.jsonl, tracks.jsonl and events.jsonl (and detections, fused and measurement files with --record-detections) into this directory')
    .option('--record-detections', 'also record every camera\'s detections (detections.jsonl) and each pair\'s fused detections (fused.jsonl)')
    .option('--record-video', 'pixel mode: also record every camera\'s frames losslessly (video/<camera>.mkv and its frame index) for `skyvox process`')
    .option('--analysis-fps <n>', 'pixel mode: analyse this many frames a second per camera, the same instants on every camera (those nearest a grid on the site clock), so a machine too slow for every frame still triangulates (default: every frame)', positive('--analysis-fps', 1000))
    .option('--report <file>', 'at the end, write the run\'s tracking metrics (as `skyvox eval`) to this JSON file');

/** Builds the command tree; `log` is shared by every command. */
function program(run: (p: Promise<number>) => void): Command {
  const log = createLogger();
  const root = new Command('skyvox')
    .description('Find and track drones and birds in 3D from many synchronized cameras, as actors on NATS.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  scenarioOptions(nodeOptions(
    root
      .command('up')
      .description('start an embedded nats-server from nats.conf and one node with all its actors')
      .option('--nats <url>', 'use this existing NATS server or cluster instead of starting one')
      .option('--nats-port <port>', 'client port (default 4222, or a free one if taken; 0 = any free port)', integer('--nats-port', 0, 65535))
      .option('--ws-port <port>', 'websocket port for browser viewers (default 4223 or a free one)', integer('--ws-port', 0, 65535))
      .option('--no-status', 'no live status line'),
  )).action((o) => run(runNode({ ...o, embedded: true }, log)));

  nodeOptions(
    root
      .command('replay')
      .description('re-run a recording (skyvox up --record DIR --record-detections) through the pipeline, at any speed')
      .argument('<dir>', 'the recording, or "stream": the detection archive of a site run with --archive-detections')
      .addOption(new Option('--from <stage>', 'the recorded stream to replay: detections (fusion, voxel and tracker run), fused (voxel and tracker) or meas (tracker)').choices(['det', 'fused', 'meas']).default('det'))
      .option('--scenario <name|file>', 'the rig (default: DIR/scenario.yaml, written by --record)')
      .option('--speed <x>', 'playback speed (1 = as recorded)', positive('--speed', 1000))
      .option('--voxel-shards <n>', 'voxel actors, each owning a slab of the airspace (default 1)', integer('--voxel-shards', 1, 64))
      .option('--options <file>', 'stage settings (YAML): fusion, voxel, tracker')
      .option('--nats-port <port>', 'client port (default 4222, or a free one if taken; 0 = any free port)', integer('--nats-port', 0, 65535))
      .option('--ws-port <port>', 'websocket port', integer('--ws-port', 0, 65535))
      .option('--record <dir>', 'write this replay\'s tracks.jsonl and events.jsonl here')
      .option('--record-detections', 'also record the replayed stages\' outputs')
      .option('--report <file>', 'score the replay against DIR/truth.jsonl (as `skyvox eval`; no latency: the times are the recording\'s)')
      .option('--source-nats <url>', 'replay stream: the site\'s NATS server(s) (default: the local `skyvox up`)')
      .option('--source-user <name>', 'replay stream: NATS user at the site', 'admin')
      .option('--since <when>', 'replay stream: from a duration ago (30s, 10m, 2h), an ISO time, or "start"', '10m')
      .option('--until <when>', 'replay stream: up to a duration ago or an ISO time (default: what the archive holds now)'),
  ).action((dir: string, o) => {
    let stream: StreamSource | undefined;
    if (dir === 'stream') {
      const t = natsTarget({ nats: o.sourceNats, user: o.sourceUser, dataDir: o.dataDir, prefix: o.prefix }, 'admin');
      const until = o.until === undefined ? undefined : parseSince(o.until, Date.now());
      if (until === 'start') throw new UsageError('--until: expected a duration ago or an ISO time, got "start"');
      stream = { servers: t.servers, user: t.user, pass: t.pass, prefix: t.prefix, since_ms: parseSince(o.since, Date.now()), until_ms: until };
      if (o.from !== 'det') throw new UsageError('replay stream: the archive holds detections; --from must be det');
    }
    run(runNode({ ...o, embedded: true, status: false, replay: { dir, from: o.from, stream } }, log));
  });

  root
    .command('process')
    .description('batch-process a recording\'s videos on the work-queue stream (every free batch worker helps) into the tracks file a live run gives')
    .argument('<dir>', 'a recording with scenario.yaml (the rig) and video/<camera>.mkv + video/<camera>.frames.txt (skyvox up --record DIR --record-video)')
    .option('--out <dir>', 'where tracks.jsonl, events.jsonl and job.json go (default DIR/processed)')
    .option('--scenario <name|file>', 'the rig (default DIR/scenario.yaml)')
    .option('--nats <url>', 'submit to this NATS server or cluster (its nodes\' batch workers do the work) instead of an embedded one')
    .option('--data-dir <dir>', 'credentials (and the embedded server\'s store); default $SKYVOX_DATA_DIR or ./.skyvox')
    .option('--prefix <prefix>', 'subject prefix')
    .option('--workers <n>', 'batch workers in this process (default 2 without --nats, 0 with it)', integer('--workers', 0, 64))
    .option('--chunk-s <seconds>', 'split each camera\'s video into tasks of this length (default: one task per camera, which reproduces a live run exactly)', positive('--chunk-s'))
    .option('--warmup-frames <n>', 'with --chunk-s: frames before a chunk that only prime the background (default: the motion kernel\'s warm-up + 3/alpha)', integer('--warmup-frames', 0))
    .option('--ack-wait-s <s>', 'a task not finished nor extended within this is redelivered (default: the queue\'s, 30 when first made; given, it changes the queue\'s)', integer('--ack-wait-s', 1))
    .option('--max-deliver <n>', 'deliveries before a task is given up with a failed record (default: the queue\'s, 3 when first made; given, it changes the queue\'s)', integer('--max-deliver', 1, 100))
    .option('--replicas <n>', 'replicas of the work and results streams (3 on a 3-server cluster)', integer('--replicas', 1, 5))
    .option('--options <file>', 'stage settings (YAML): motion, fusion, voxel, tracker')
    .option('--report <file>', 'score the tracks against DIR/truth.jsonl (as `skyvox eval`)')
    .option('--keep', 'keep the job\'s detections and records in the results stream (default: purged once written)')
    .action((dir: string, o) => run(processCommand(dir, o, log)));

  root
    .command('detect')
    .description('run the motion kernel over one camera\'s video (any file ffmpeg reads): detections as JSON lines, and with --labels scored against box labels')
    .argument('<video>', 'the video file')
    .option('--labels <csv>', 'box labels: a CSV with the header frame,label,x,y,width,height (frame 0-based, x and y the top-left corner): recall, false alarms per frame, precision')
    .option('--origin <n>', 'where the labels count pixels from (1 for MATLAB-made labels, 0 otherwise)', integer('--origin', 0, 1), 1)
    .option('--margin-px <px>', 'a detection counts for a box when its centroid lies within this many pixels of it', nonNegative('--margin-px', 1000), 2)
    .option('--fps <rate>', 'the frame rate, when the video declares none (frame times in the output)', positive('--fps'))
    .option('--out <file>', 'write each frame\'s detections here as JSON lines')
    .option('--options <file>', 'stage settings (YAML): its motion section sets the kernel')
    .option('--mask <pgm>', 'a detection mask: an 8-bit PGM of the frame\'s size, non-zero where targets are looked for (blobs centred elsewhere are left out)')
    .option('--report <file>', 'also write the summary here')
    .action((video: string, o) => run(detectCommand(video, o, log)));

  root
    .command('eval')
    .description('score recorded tracks against recorded truth: MOTA, MOTP, IDF1, ID switches, GOSPA, RMSE, detection and false-track rates')
    .requiredOption('--truth <file>', 'truth.jsonl written by `skyvox up --record` (or MOTChallenge gt.txt)')
    .requiredOption('--tracks <file>', 'tracks.jsonl written by `skyvox up --record` (or a MOTChallenge tracker file)')
    .option('--match-m <metres>', 'distance within which a track matches an object', positive('--match-m'), 2)
    .addOption(new Option('--format <format>', 'skyvox JSON lines, or MOTChallenge text files scored with IoU ≥ 0.5 (comma-separated lists score sequences together)').choices(['skyvox', 'motchallenge']).default('skyvox'))
    .option('--include-clutter', 'score clutter birds as targets too')
    .option('--scenario <name|file>', 'the scenario the run played: adds crlb_ratio (3D RMSE over the Cramér–Rao bound of its rig and sensors)')
    .option('--from-s <seconds>', 'score only the scans from this many seconds after the first truth scan (a run\'s steady state)', positive('--from-s'))
    .option('--out <file>', 'also write the report here')
    .action((o) => run(Promise.resolve(evalCommand(o))));

  root
    .command('info')
    .description('which native paths (SIMD, CUDA) this machine takes, and why; the Node options it runs under')
    .action(() => {
      process.stdout.write(`${JSON.stringify({ node: process.version, node_options: process.execArgv, native: nativeInfo() }, null, 2)}\n`);
      run(Promise.resolve(EXIT.ok));
    });

  root
    .command('scenarios')
    .description('list the built-in scenarios')
    .option('--json', 'one JSON object per scenario')
    .action((o: { json?: boolean }) => {
      for (const name of builtinScenarios()) {
        const s = loadScenario(name);
        const line = { name, mode: s.mode, cameras: s.cameras.length, fps: s.fps, duration_s: s.duration_s, description: s.description ?? '' };
        process.stdout.write(o.json ? `${JSON.stringify(line)}\n` : `${name.padEnd(10)} ${s.mode.padEnd(10)} ${String(s.cameras.length).padStart(3)} cameras  ${line.description}\n`);
      }
      run(Promise.resolve(EXIT.ok));
    });

  scenarioOptions(nodeOptions(
    root
      .command('node')
      .description('run a node that joins an existing NATS server or cluster')
      .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated'),
  )).action((o) => run(runNode({ ...o, embedded: false, status: false }, log)));

  natsClientOptions(
    root
      .command('tail')
      .description(`print every message of a subject, decoded (aliases: ${SUBJECT_ALIASES.join(', ')})`)
      .argument('<subject>', 'a subject (wildcards allowed) or an alias')
      .option('--json', 'one JSON object per line: {subject, data}')
      .option('--count <n>', 'exit after n messages', integer('--count', 1))
      .option('--since <when>', 'tracks and events only: replay the archive from a duration ago (30s, 10m, 2h, 1d), an ISO time, or "start", then follow it'),
  ).action((subject: string, o) => run(tail(subject, o, log)));

  root
    .command('server')
    .description('run one nats-server from nats.conf, alone or as a member of a NATS cluster (see the README)')
    .option('--name <name>', 'server name in the cluster')
    .option('--cluster-name <name>', 'cluster name, the same on every member', 'skyvox')
    .option('--cluster-port <port>', 'route port for the other members', integer('--cluster-port', 1, 65535))
    .option('--routes <urls>', 'the other members: nats-route://HOST:PORT, comma-separated')
    .option('--host <addr>', 'listen address for clients and routes', '127.0.0.1')
    .option('--nats-port <port>', 'client port', integer('--nats-port', 0, 65535), 4222)
    .option('--ws-port <port>', 'websocket port (loopback)', integer('--ws-port', 0, 65535))
    .option('--data-dir <dir>', 'credentials.json (share it across the cluster) and the JetStream store')
    .option('--store-dir <dir>', 'JetStream store (default <data-dir>/jetstream-<name>)')
    .option('--prefix <prefix>', 'subject prefix')
    .action((o) => run(server(o, log)));

  natsClientOptions(
    root
      .command('nodes')
      .description('list the cluster: each node from its heartbeat (alive or dead, load), the coordinator, placed actors')
      .option('--json', 'one JSON object per node'),
  ).action((o) => run(nodes(o, log)));

  natsClientOptions(
    root
      .command('ctl')
      .description('send a control request to a node: list, restart ACTOR, crash ACTOR, stop')
      .argument('<node>', 'node name')
      .argument('<command>', 'list | restart | crash | stop')
      .argument('[actor]', 'actor name for restart and crash')
      .option('--json', 'print the reply as JSON')
      .addOption(new Option('--timeout <ms>', 'reply timeout').argParser(integer('--timeout', 1)).default(3000)),
  ).action((node: string, command: string, actor: string | undefined, o) => run(ctl(node, command, actor, o, log)));

  root
    .command('bench')
    .description(`run benchmarks and print JSON with ratios against baselines of the same run (${BENCHES.join(', ')})`)
    .argument('[name]', 'one benchmark')
    .option('--actors <n>', 'telemetry: idle actors on the node', integer('--actors', 1, 10_000), 50)
    .option('--rate-hz <r>', 'telemetry: records per second per actor', positive('--rate-hz', 50), 10)
    .option('--window-s <s>', 'seconds measured per run', positive('--window-s', 600), 10)
    .option('--repeats <n>', 'interleaved baseline/floor/telemetry runs (medians reported)', integer('--repeats', 1, 100), 5)
    .option('--targets <n>', 'tracker: targets in the synthetic sky', integer('--targets', 1, 100_000), 250)
    .action((name: string | undefined, o) => run(bench(name, o)));

  root
    .command('schema')
    .description('print the JSON Schema of every message type (or write one file each with --out)')
    .argument('[name]', 'one message type')
    .option('--out <dir>', 'write <name>.schema.json files here')
    .action((name: string | undefined, o: { out?: string }) => {
      const types = MESSAGE_TYPES.filter((t) => !name || t.name === name);
      if (types.length === 0) throw new UsageError(`Expected a message type (${MESSAGE_TYPES.map((t) => t.name).join(', ')}) but received "${name}"`);
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        for (const t of types) writeFileSync(join(o.out, `${t.name}.schema.json`), `${JSON.stringify(toJsonSchema(t), null, 2)}\n`);
      } else process.stdout.write(`${JSON.stringify(types.length === 1 ? toJsonSchema(types[0]!) : types.map(toJsonSchema), null, 2)}\n`);
      run(Promise.resolve(EXIT.ok));
    });
  return root;
}

const USER_ERRORS = [UsageError, ConfigError, InvalidSubjectTokenError, CredentialsError, ScenarioError];
const RUNTIME_ERRORS = [NatsServerNotFoundError, NatsServerStartError, BusConnectError];

/** Runs the CLI on `argv`; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  endOnClosedPipe();
  let pending: Promise<number> | undefined;
  try {
    await program((p) => (pending = p)).parseAsync(argv);
    return pending ? await pending : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (USER_ERRORS.some((c) => err instanceof c)) {
      process.stderr.write(`skyvox: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    if (RUNTIME_ERRORS.some((c) => err instanceof c)) {
      process.stderr.write(`skyvox: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    process.stderr.write(`skyvox: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}

/**
 * A reader that stops early (`skyvox tail tracks | head`) closes the pipe: the command ends as a
 * signal ends it — in order, its processes stopped, where it has cleanups — once, and without a
 * stack trace; any other output error is still thrown.
 */
function endOnClosedPipe(): void {
  let closed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (closed) return;
    closed = true;
    process.kill(process.pid, 'SIGTERM');
  });
}
