import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/** A private Redis that a fault test can take down and bring back on the same port. */
export interface RestartableRedis extends RunningRedis {
  /** Ends redis-server with `signal` (SIGKILL: no shutdown save) and waits until it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts redis-server again on the same port, from the same data directory. */
  restart(): Promise<void>;
}

const EPHEMERAL = ['--save', '', '--appendonly', 'no'];

/**
 * A Redis for the store tests: `REDIS_URL` if set, else a private `redis-server` on a free
 * loopback port. `undefined` (with the reason) where neither can be had.
 */
export async function startRedis(): Promise<RunningRedis | { unavailable: string }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  if (!redisServerInstalled()) {
    return { unavailable: 'redis-server is not installed and REDIS_URL is not set' };
  }
  const port = await freePort();
  const child = await spawnRedis(port, EPHEMERAL);
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(child, 'SIGTERM') };
}

/**
 * A private `redis-server` (never `REDIS_URL`: the test kills it) that keeps every write it
 * acknowledged across a kill: the append-only file is fsynced before each reply
 * (`appendfsync always`), so `restart()` brings back the data as Redis had confirmed it.
 */
export async function startRestartableRedis(): Promise<RestartableRedis | { unavailable: string }> {
  if (!redisServerInstalled()) return { unavailable: 'redis-server is not installed' };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hop-redis-'));
  const args = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  let child = await spawnRedis(port, args);
  return {
    url: `redis://127.0.0.1:${port}`,
    kill: (signal = 'SIGKILL') => stopProcess(child, signal),
    restart: async () => {
      if (child.exitCode === null && child.signalCode === null) return;
      child = await spawnRedis(port, args);
    },
    stop: async () => {
      await stopProcess(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisServerInstalled(): boolean {
  return !spawnSync('redis-server', ['--version']).error;
}

async function spawnRedis(port: number, args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForReady(child);
  return child;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
