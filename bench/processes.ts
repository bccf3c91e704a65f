import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TargetName } from './config.js';
import type { ResultReport, ServerReport, ServerRequest } from './ipc.js';

type ReadyOrFailed = Extract<ServerReport, { type: 'ready' | 'failed' }>;
type Stats = Extract<ServerReport, { type: 'stats' }>;
type Allocations = Extract<ServerReport, { type: 'allocations' }>;

const STARTUP_TIMEOUT_MS = 60_000;
const REPLY_TIMEOUT_MS = 10_000;

/** Every child still running, so that an interrupted run leaves none behind. */
const running = new Set<ChildProcess>();

/** Stops every child this process started (on an interrupt or a crash of the orchestrator). */
function killRunningChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Runs an orchestrator's `main` and exits with its code; on an interrupt, or if `main` throws,
 * first stops every child it started.
 */
export function runOrchestrator(main: () => Promise<number>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killRunningChildren();
      process.exit(130);
    });
  }
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      killRunningChildren();
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** The compiled file of a script in bench/dist, next to this one. */
export function benchScript(relativePath: string): string {
  return fileURLToPath(new URL(relativePath, import.meta.url));
}

/** A program the child's `node` runs under, e.g. `valgrind` with its options. */
export interface Launcher {
  readonly command: string;
  readonly args: readonly string[];
}

function forkTracked(
  script: string,
  execArgv: readonly string[],
  launcher?: Launcher,
): ChildProcess {
  const child = fork(script, [], {
    ...(launcher
      ? { execPath: launcher.command, execArgv: [...launcher.args, process.execPath, ...execArgv] }
      : { execArgv: [...execArgv] }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Resolves with the first message of the child that `accept` takes; rejects on exit or timeout. */
function nextMessage<M, T extends M>(
  child: ChildProcess,
  accept: (message: M) => message is T,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanUp = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      if (!accept(message as M)) return;
      cleanUp();
      resolve(message as T);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanUp();
      reject(new Error(`${what}: the child exited (code ${code}, signal ${signal}) first`));
    };
    const timer = setTimeout(() => {
      cleanUp();
      reject(new Error(`${what}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A server child's peak RSS (kB), CPU time (µs) and deliveries accepted, at one moment. */
export interface ServerStats {
  readonly maxRssKb: number;
  readonly cpuUs: number;
  readonly handled: number;
}

/** The server's CPU time per delivery it accepted between two readings of its stats. */
export function cpuUsPerDelivery(before: ServerStats, after: ServerStats): number {
  return (after.cpuUs - before.cpuUs) / Math.max(1, after.handled - before.handled);
}

/** A server under test, running in a child process of its own. */
export class ServerProcess {
  private constructor(
    readonly target: TargetName,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Forks bench/dist/servers/<target>.js (under `launcher`, if given) and waits until it listens. */
  static async start(
    target: TargetName,
    execArgv: readonly string[] = [],
    launcher?: Launcher,
  ): Promise<ServerProcess> {
    const child = forkTracked(benchScript(`./servers/${target}.js`), execArgv, launcher);
    try {
      const report = await nextMessage(
        child,
        (message: ServerReport): message is ReadyOrFailed =>
          message.type === 'ready' || message.type === 'failed',
        `starting ${target}`,
        STARTUP_TIMEOUT_MS,
      );
      if (report.type === 'failed') throw new Error(`${target} failed to start: ${report.message}`);
      return new ServerProcess(target, report.port, child);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** The child's process id (under a launcher such as valgrind, the launcher's, which runs it). */
  get pid(): number {
    return this.child.pid as number;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The child's peak resident set size (kB), CPU time (µs) and deliveries accepted so far. */
  async stats(): Promise<ServerStats> {
    const reply = nextMessage(
      this.child,
      (message: ServerReport): message is Stats => message.type === 'stats',
      `stats of ${this.target}`,
      REPLY_TIMEOUT_MS,
    );
    this.send({ type: 'stats' });
    const report = await reply;
    return { maxRssKb: report.maxRssKb, cpuUs: report.cpuUs, handled: report.handled };
  }

  /**
   * Starts sampling the child's allocations (`start`), or stops and returns the bytes it
   * allocated since, with its deliveries accepted so far.
   */
  async sampleAllocations(start: boolean): Promise<{ bytes: number; handled: number }> {
    const reply = nextMessage(
      this.child,
      (message: ServerReport): message is Allocations => message.type === 'allocations',
      `allocations of ${this.target}`,
      REPLY_TIMEOUT_MS,
    );
    this.send({ type: 'sample-allocations', start });
    const report = await reply;
    return { bytes: report.bytes, handled: report.handled };
  }

  /** Asks the child to close and exit (so a CPU profile gets written); kills it if it does not. */
  async stop(): Promise<void> {
    const done = exited(this.child);
    if (this.child.connected) this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), REPLY_TIMEOUT_MS);
    await done;
    clearTimeout(timer);
  }

  private send(request: ServerRequest): void {
    this.child.send(request);
  }
}

/** Runs a measuring script (verify, bootstrap) in a child of its own and returns its result. */
export async function runMeasuringChild<R>(
  script: string,
  execArgv: readonly string[] = [],
  timeoutMs = 180_000,
): Promise<R> {
  const child = forkTracked(benchScript(script), execArgv);
  try {
    const report = await nextMessage(
      child,
      (message: ResultReport<R>): message is ResultReport<R> =>
        message.type === 'result' || message.type === 'failed',
      script,
      timeoutMs,
    );
    if (report.type === 'failed') throw new Error(`${script} failed: ${report.message}`);
    await exited(child);
    return report.result;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
