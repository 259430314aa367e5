import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SKYVOX_BIN, SKYVOX_NODE_OPTIONS, SKYVOX_SHEBANG } from '../cli/launcher.js';
import { isAlive } from '../supervisors/os-process.js';
import { quickInDetectionMode, scratchDir } from './helpers/scratch.js';
import { skyvox, skyvoxRun } from './helpers/cli.js';
import { sleep, startTestNats, waitFor } from './helpers/nats.js';

interface Runtime {
  url: string;
  pid: number;
  node: string;
}

describe('skyvox command', function () {
  this.timeout(40_000);
  let dataDir = '';
  scratchDir('cli', (d) => (dataDir = d));

  async function up(extra: string[] = [], detached = false) {
    const cli = skyvox(['up', '--nats-port', '0', '--ws-port', '0', '--data-dir', dataDir, '--name', 'n1', '--telemetry-hz', '10', ...extra], { detached });
    await waitFor(() => /node n1 up on/.test(cli.stdout()) || cli.child.exitCode !== null, 'skyvox up to be ready', 20_000);
    assert.match(cli.stdout(), /node n1 up on nats:\/\/127\.0\.0\.1:\d+/, cli.stderr());
    const runtime = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as Runtime;
    assert.ok(isAlive(runtime.pid), 'nats-server is running');
    return { cli, runtime };
  }

  it('a reader closing the pipe early ends a command as a signal would, without a stack trace', async () => {
    const cli = skyvox(['schema']);
    // The reader goes away before the command has written its output.
    cli.child.stdout!.destroy();
    const { code, signal } = await cli.exited;
    assert.ok(signal === 'SIGTERM' || code === 0, `exit ${code} ${signal}`);
    assert.doesNotMatch(cli.stderr(), /EPIPE|Error/, cli.stderr());
  });

  it('up starts NATS and a node; tail shows its live telemetry; Ctrl-C stops both with nothing left behind', async () => {
    const { cli, runtime } = await up([], true);
    const tail = await skyvoxRun(['tail', 'telemetry', '--json', '--count', '4', '--data-dir', dataDir]);
    assert.equal(tail.code, 0, tail.stderr);
    const lines = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { subject: string; data: Record<string, unknown> });
    assert.equal(lines.length, 4);
    assert.ok(lines.every((l) => l.subject.startsWith('skyvox.telemetry.n1')));
    const actorRec = lines.find((l) => l.subject === 'skyvox.telemetry.n1.telemetry');
    assert.ok(actorRec, 'a per-actor record');
    assert.equal(typeof actorRec.data.t_ns, 'number', 'JSON lines carry t_ns as an integer');
    for (const k of ['status', 'restarts', 'msgs_in', 'msgs_out', 'errors', 'dropped', 'mailbox_depth', 'latency_ms']) assert.ok(k in actorRec.data, k);

    // A terminal's Ctrl-C signals the whole foreground process group.
    process.kill(-cli.child.pid!, 'SIGINT');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.stderr());
    await waitFor(() => !isAlive(runtime.pid), 'nats-server to exit');
    assert.equal(existsSync(join(dataDir, 'runtime.json')), false, 'runtime file removed');
  });

  it('SIGTERM stops cleanly too', async () => {
    const { cli, runtime } = await up();
    cli.child.kill('SIGTERM');
    assert.equal((await cli.exited).code, 0, cli.stderr());
    assert.equal(isAlive(runtime.pid), false);
  });

  it('even when skyvox is SIGKILLed, its nats-server does not outlive it', async () => {
    const { cli, runtime } = await up();
    cli.child.kill('SIGKILL');
    await cli.exited;
    await waitFor(() => !isAlive(runtime.pid), 'the orphaned nats-server to be stopped by its watchdog', 8000);
  });

  it('a scenario\'s sources play in a process of their own, which neither Ctrl-C nor SIGKILL of skyvox leaves behind', async () => {
    const scenario = quickInDetectionMode(dataDir);
    const sourcesPid = async (cli: ReturnType<typeof skyvox>) => {
      const said = /the scenario's sources play in node n1-sources \(pid (\d+)\)/.exec(cli.stdout());
      assert.ok(said, `${cli.stdout()}\n${cli.stderr()}`);
      const pid = Number(said[1]);
      assert.ok(isAlive(pid));
      return pid;
    };
    // Its simulator publishes; this run's stages track: the sources process is not this one.
    const first = await up(['--scenario', scenario], true);
    const pid1 = await sourcesPid(first.cli);
    assert.notEqual(pid1, first.cli.child.pid);
    const tracks = await skyvoxRun(['tail', 'tracks', '--json', '--count', '3', '--data-dir', dataDir]);
    assert.equal(tracks.code, 0, tracks.stderr);
    process.kill(-first.cli.child.pid!, 'SIGINT');
    assert.equal((await first.cli.exited).code, 0, first.cli.stderr());
    assert.equal(isAlive(pid1), false, 'the sources process stopped with the run');
    const second = await up(['--scenario', scenario]);
    const pid2 = await sourcesPid(second.cli);
    second.cli.child.kill('SIGKILL');
    await second.cli.exited;
    await waitFor(() => !isAlive(pid2), 'the orphaned sources process to be stopped by its watchdog', 8000);
  });

  it('ctl lists actors and stop ends the node with exit code 0', async () => {
    const { cli } = await up();
    const list = await skyvoxRun(['ctl', 'n1', 'list', '--data-dir', dataDir]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /telemetry\s+telemetry\s+running/);
    const refused = await skyvoxRun(['ctl', 'n1', 'crash', 'telemetry', '--data-dir', dataDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /FAULT_INJECTION_DISABLED/);
    const stop = await skyvoxRun(['ctl', 'n1', 'stop', '--data-dir', dataDir]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await cli.exited).code, 0);
  });

  it('a viewer cannot tail what it may not read', async () => {
    await up();
    const res = await skyvoxRun(['tail', 'skyvox.det.>', '--user', 'viewer', '--data-dir', dataDir]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /permissions violation for subscription to "skyvox\.det\.>"/i);
  });

  it('`skyvox node --nats URL` joins an existing server and answers control requests', async () => {
    const nats = await startTestNats();
    try {
      const node = skyvox(['node', '--nats', nats.server.url, '--name', 'joiner', '--data-dir', dataDir], { env: { SKYVOX_NODE_PASSWORD: nats.server.credentials.node } });
      await waitFor(() => /node joiner up/.test(node.stdout()) || node.child.exitCode !== null, 'the node', 20_000);
      const list = await skyvoxRun(['ctl', 'joiner', 'list', '--json', '--nats', nats.server.url, '--data-dir', dataDir], { env: { SKYVOX_ADMIN_PASSWORD: nats.server.credentials.admin } });
      assert.equal(list.code, 0, list.stderr);
      const reply = JSON.parse(list.stdout) as { ok: boolean; actors: { name: string }[] };
      assert.deepEqual(reply.actors.map((a) => a.name), ['telemetry', 'ctl']);
      node.child.kill('SIGINT');
      assert.equal((await node.exited).code, 0);
    } finally {
      await nats.dispose();
    }
  });

  it('`skyvox node` whose server has gone still exits when asked to stop', async () => {
    const nats = await startTestNats();
    try {
      const node = skyvox(['node', '--nats', nats.server.url, '--name', 'orphaned', '--data-dir', dataDir], { env: { SKYVOX_NODE_PASSWORD: nats.server.credentials.node } });
      await waitFor(() => /node orphaned up/.test(node.stdout()) || node.child.exitCode !== null, 'the node', 20_000);
      await nats.dispose();
      // Its connection retries forever while it runs; a stop must end that, not wait on it.
      await sleep(500);
      node.child.kill('SIGTERM');
      const exit = await Promise.race([node.exited, sleep(10_000).then(() => 'still running 10 s after SIGTERM' as const)]);
      if (typeof exit === 'string') node.child.kill('SIGKILL');
      assert.deepEqual(exit, { code: 0, signal: null }, node.stderr());
    } finally {
      await nats.dispose();
    }
  });

  it('says in one line how to install nats-server when it is missing', async () => {
    const res = await skyvoxRun(['up', '--data-dir', dataDir], { env: { SKYVOX_NATS_SERVER: '/nonexistent/nats-server' } });
    assert.equal(res.code, 1);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /nats-server not found: install it with `sudo apt-get install -y nats-server`/);
  });

  it('runs under the Node options every skyvox process gets, started as a command or by skyvox itself', async () => {
    assert.equal(readFileSync(SKYVOX_BIN, 'utf8').split('\n')[0], SKYVOX_SHEBANG);
    // As a user's shell starts it: the kernel reads the first line.
    const direct = execFileSync(SKYVOX_BIN, ['info'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(direct).node_options, SKYVOX_NODE_OPTIONS);
    const spawned = await skyvoxRun(['info']);
    assert.deepEqual(JSON.parse(spawned.stdout).node_options, SKYVOX_NODE_OPTIONS);
  });

  it('exits 2 with a sentence on usage errors, 0 on --help', async () => {
    const bad = await skyvoxRun(['up', '--nats-port', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected an integer from 0 to 65535 for --nats-port but received "abc"/);
    assert.equal((await skyvoxRun(['frobnicate'])).code, 2);
    const sources = await skyvoxRun(['node', '--nats', 'nats://127.0.0.1:1', '--sources-only']);
    assert.equal(sources.code, 2);
    assert.match(sources.stderr, /--sources-only needs --scenario S/);
    const pixelApart = await skyvoxRun(['up', '--scenario', 'quick', '--sources', 'process']);
    assert.equal(pixelApart.code, 2);
    assert.match(pixelApart.stderr, /--sources process: in pixel mode the cameras hand their frames to the motion actors/);
    const sourcesTwice = await skyvoxRun(['node', '--nats', 'nats://127.0.0.1:1', '--scenario', 'ring10', '--sources-only', '--sources', 'inline']);
    assert.equal(sourcesTwice.code, 2);
    assert.match(sourcesTwice.stderr, /--sources: only a scenario run that plays its own sources places them/);
    const badPlace = await skyvoxRun(['up', '--scenario', 'ring10', '--sources', 'elsewhere']);
    assert.equal(badPlace.code, 2);
    assert.match(badPlace.stderr, /--sources.*elsewhere.*inline, process/);
    const options = join(dataDir, 'stages.yaml');
    writeFileSync(options, 'tracker:\n  association: mht\n');
    const badOptions = await skyvoxRun(['up', '--scenario', 'quick', '--options', options]);
    assert.equal(badOptions.code, 2);
    assert.match(badOptions.stderr, /stages\.yaml: tracker: options\.association: expected "gnn" or "jpda", got "mht"/);
    writeFileSync(options, 'fusion:\n  hold_ms: soon\n');
    const badFusion = await skyvoxRun(['up', '--scenario', 'quick', '--options', options]);
    assert.equal(badFusion.code, 2);
    assert.match(badFusion.stderr, /stages\.yaml: fusion\.hold_ms: expected a number of milliseconds >= 0, got "soon"/);
    // The voxel stage's grid: a misspelt setting is named, not silently left at its default.
    writeFileSync(options, 'voxel:\n  voxel:\n    memoryBuget: 268435456\n');
    const badGrid = await skyvoxRun(['up', '--scenario', 'quick', '--options', options]);
    assert.equal(badGrid.code, 2);
    assert.match(badGrid.stderr, /stages\.yaml: voxel\.voxel: Expected one of minVoxel, .*memoryBudget.* but received the setting memoryBuget/);
    const gridInDetectionMode = await skyvoxRun(['up', '--scenario', 'ring10', '--analysis-fps', '5']);
    assert.equal(gridInDetectionMode.code, 2);
    assert.match(gridInDetectionMode.stderr, /--analysis-fps needs a pixel-mode scenario/);
    const gridTooFast = await skyvoxRun(['up', '--scenario', 'quick', '--analysis-fps', '500']);
    assert.equal(gridTooFast.code, 2);
    assert.match(gridTooFast.stderr, /--analysis-fps: expected at most the cameras' \d+ fps, got 500/);
    const help = await skyvoxRun(['tail', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /aliases: tracks, events, telemetry,\s+dead/);
  });

  it('pixel mode: when frames are dropped it says so, and how to analyse the same instants on every camera', async () => {
    // At 20× speed no machine renders and analyses every frame of quick's four cameras.
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-cli-'));
    try {
      const run = await skyvoxRun(['up', '--scenario', 'quick', '--speed', '20', '--duration', '5', '--warm-up', '0', '--nats-port', '0', '--ws-port', '0', '--data-dir', dir, '--no-status']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /frames dropped: this machine cannot analyse every frame.*--analysis-fps N has every camera analyse the same N instants a second/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a taken --nats-port is an error naming the port', async () => {
    const { runtime } = await up();
    const port = new URL(runtime.url).port;
    const other = mkdtempSync(join(tmpdir(), 'skyvox-cli-'));
    const res = await skyvoxRun(['up', '--nats-port', port, '--data-dir', other]);
    rmSync(other, { recursive: true, force: true });
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`Expected NATS port ${port} to be free on 127.0.0.1 but it is in use`));
  });
});
