#!/usr/bin/env node
// Makes sure nats-server is installed before `npm start` / `npm test`: on Debian as root it
// installs Debian's package; anywhere else it says exactly what to run, and fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findNatsServer, INSTALL_HINT } from '../dist/bus/nats-server.js';

function found() {
  try {
    return findNatsServer();
  } catch {
    return undefined;
  }
}

if (!found()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    process.stderr.write('skyvox: nats-server is missing; installing Debian package nats-server\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env });
    if (!install || install.status !== 0 || !found()) {
      process.stderr.write(`skyvox: installing nats-server failed. ${INSTALL_HINT}\n`);
      process.exit(1);
    }
  } else {
    process.stderr.write(`skyvox: ${INSTALL_HINT}\n`);
    process.exit(1);
  }
}
