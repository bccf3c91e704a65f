import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HopWebhooksModule, type HopEvent } from '../../lib/index.js';
import { buildHopEvent } from '../../lib/testing/index.js';
import { HopSender } from '../src/hop-sender.js';
import { startRedis, type RunningRedis } from '../src/redis-server.js';
import { startTestApp, type TestApp } from '../src/test-app.js';

// Queue mode as a fleet: this process receives (a real Nest app, `queue.worker: false`) and two
// worker-only processes (test/src/queue-worker.process.mjs, `receive: false`) run the handlers,
// whose side effect, their last step, is `RPUSH runs:<event id> <pid>:<run>`. Mid-run, worker A
// is killed (SIGKILL, which it sends itself on cue, so that it dies with handlers in progress),
// and started again as a new process.
//
// When a handler can run twice, and so what is demanded. A job whose worker dies stays active
// until its lock lapses (`lockDurationMs` after its last renewal); the next stalled check of a
// live worker (every `stalledIntervalMs`) moves it back to waiting, and another worker runs it
// from the start: no event is lost. If the dead worker had already done the handler's side effect
// but BullMQ had not yet recorded the job completed (the worker died between the handler's last
// step and its `moveToFinished`), the event's handler has then run twice: first on the killed
// worker, then on another one. That is the only way here, so an event may run twice only if its
// first run was on the killed worker's pid and its job stalled, at most one such event per job
// that worker had in progress (its concurrency). A run killed before its side effect leaves no
// record, and its job's next run is the event's only one. BullMQ has one other window, not opened
// here: a live worker whose lock lapses (its event loop or its Redis blocked for longer than
// `lockDurationMs`) has its job run by another worker while it still runs it; the locks here
// last 5 s and are renewed every 2.5 s, so a run twice on any other pid fails the test.

const SECRET = 'whsec_queue-fleet-secret';
const EVENTS = 5_000;
// Every 10th event is delivered twice: 500 duplicate deliveries, interleaved with the others.
const DUPLICATE_EVERY = 10;
// Events between an event's first delivery and its duplicate, in turn: both in flight together,
// or the duplicate finding its job waiting, running or long completed.
const DUPLICATE_GAPS = [0, 9, 49, 199];
const WORKER = {
  concurrency: 20,
  // Long enough that a live worker on a busy machine keeps its locks (renewed every 2.5 s);
  // the killed worker's jobs wait this long, plus one stalled check, to be taken up again.
  lockDurationMs: 5_000,
  stalledIntervalMs: 1_000,
  maxStalledCount: 1,
};
// Once this share of the deliveries has been answered, worker A is told to SIGKILL itself as a
// handler starts with KILL_IN_PROGRESS in progress (the parent SIGKILLs it after KILL_WAIT_MS if
// it has not), and it is started again RESTART_AFTER_MS after it died.
const KILL_AT = 0.4;
const KILL_IN_PROGRESS = 5;
const KILL_WAIT_MS = 10_000;
const RESTART_AFTER_MS = 500;
const SENDER = { secret: SECRET, concurrency: 50, maxAttempts: 10, attemptTimeoutMs: 30_000 };
// Counts are the subject: a busy machine may take long, and that is not a failure.
const COMPLETION_TIMEOUT_MS = 300_000;

const WORKER_PROGRAM = fileURLToPath(new URL('../src/queue-worker.process.mjs', import.meta.url));

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly nest: string;
  readonly bullmq: string;
  /** What it wrote to stderr (its error and warning logs). */
  readonly stderr: string[];
}

/**
 * Where the workers take @nestjs/*, rxjs, reflect-metadata and bullmq from: the node_modules
 * folder this run's own come from. In the Nest 11 run (vitest.nest11.config.ts) its setup file
 * sends Node's resolution of these to test/nest11, so the workers, like this process, run
 * Nest 11 and BullMQ 5; otherwise plain resolution (the root's Nest 12 and BullMQ 6) is theirs.
 */
function nestModules(): { folder: string | undefined; nest: string; bullmq: string } {
  const require = createRequire(import.meta.url);
  const manifest = (name: string) => require.resolve(`${name}/package.json`);
  const version = (name: string) => (require(manifest(name)) as { version: string }).version;
  const core = manifest('@nestjs/core');
  const folder = core.slice(0, core.lastIndexOf(`${sep}node_modules${sep}`) + 14);
  const root = fileURLToPath(new URL('../../node_modules/', import.meta.url));
  return {
    folder: join(folder) === join(root) ? undefined : folder,
    nest: version('@nestjs/core'),
    bullmq: version('bullmq'),
  };
}

/** BullMQ's connection options for a `redis://` URL. */
function connectionOf(url: string) {
  const { hostname, port, username, password, pathname } = new URL(url);
  return {
    host: hostname,
    port: Number(port || 6379),
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(pathname.length > 1 ? { db: Number(pathname.slice(1)) } : {}),
  };
}

describe('queue mode: a receiver and two worker processes, one killed mid-run', () => {
  let redis: RunningRedis | undefined;
  let unavailable: string | undefined;
  let receiver: TestApp | undefined;
  let queue: Queue | undefined;
  let client: Redis | undefined;
  let workers: WorkerProcess[] = [];

  beforeEach(async () => {
    const started = await startRedis();
    if ('unavailable' in started) unavailable = started.unavailable;
    else redis = started;
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => stop(worker.child)));
    await receiver?.close();
    await queue?.close();
    client?.disconnect();
    await redis?.stop();
    [workers, receiver, queue, client, redis] = [[], undefined, undefined, undefined, undefined];
  }, 60_000);

  async function startWorker(settings: object): Promise<WorkerProcess> {
    const child = fork(WORKER_PROGRAM, [], {
      env: { ...process.env, HOP_QUEUE_WORKER: JSON.stringify(settings) },
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const ready = await new Promise<{ ready: number; nest: string; bullmq: string }>(
      (resolve, reject) => {
        child.once('message', resolve as never);
        child.once('exit', (code, signal) =>
          reject(new Error(`the worker process exited (${code ?? signal}):\n${stderr.join('')}`)),
        );
      },
    );
    const worker = { child, pid: ready.ready, nest: ready.nest, bullmq: ready.bullmq, stderr };
    workers.push(worker);
    return worker;
  }

  it(
    'runs every event once (but where a killed worker had run it and not completed its job), loses none',
    { timeout: COMPLETION_TIMEOUT_MS + 120_000 },
    async (context) => {
      if (!redis) return context.skip(unavailable);
      const id = Math.random().toString(36).slice(2);
      const connection = connectionOf(redis.url);
      const modules = nestModules();
      const keys = `hop-fleet:${id}:`;
      const settings = {
        redis: connection,
        queueName: `hop-fleet-${id}`,
        prefix: `hop-fleet-bull-${id}`,
        keys,
        worker: WORKER,
        nestModules: modules.folder,
      };
      client = new Redis(redis.url);
      queue = new Queue(settings.queueName, { connection, prefix: settings.prefix });
      receiver = await startTestApp('express', {
        imports: [
          HopWebhooksModule.forRoot({
            secret: SECRET,
            logging: false,
            queue: { queue, worker: false },
          }),
        ],
      });
      const [a, b] = await Promise.all([startWorker(settings), startWorker(settings)]);
      // The workers run what this process runs.
      for (const worker of [a!, b!]) {
        expect({ nest: worker.nest, bullmq: worker.bullmq }).toEqual({
          nest: modules.nest,
          bullmq: modules.bullmq,
        });
      }

      const events = Array.from({ length: EVENTS }, () =>
        buildHopEvent('ignite.deployment.build.updated'),
      );
      const duplicatesAfter = new Map<number, HopEvent<string>[]>();
      events.forEach((event, index) => {
        if (index % DUPLICATE_EVERY !== 0) return;
        const gap = DUPLICATE_GAPS[(index / DUPLICATE_EVERY) % DUPLICATE_GAPS.length]!;
        const at = Math.min(index + gap, EVENTS - 1);
        duplicatesAfter.set(at, [...(duplicatesAfter.get(at) ?? []), event]);
      });
      const deliveries = events.flatMap((event, index) => [
        event,
        ...(duplicatesAfter.get(index) ?? []),
      ]);
      const sender = new HopSender(SENDER);
      const answered = () => Object.values(sender.answers).reduce((sum, n) => sum + n, 0);
      let sent = false;
      const sending = Promise.all(
        deliveries.map((event) => sender.deliver(receiver!.url(), event)),
      ).finally(() => (sent = true));

      // The kill: mid-run, with KILL_IN_PROGRESS of A's handlers in progress.
      while (!sent && answered() < deliveries.length * KILL_AT) await sleep(10);
      const exited = once(a!.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      a!.child.send({ killWhenInProgress: KILL_IN_PROGRESS });
      let killedBy = 'itself';
      const late = setTimeout(() => {
        killedBy = `the parent after ${KILL_WAIT_MS} ms`;
        a!.child.kill('SIGKILL');
      }, KILL_WAIT_MS);
      const [, killSignal] = await exited;
      clearTimeout(late);
      const answeredAtKill = answered();
      await sleep(RESTART_AFTER_MS);
      const restarted = await startWorker(settings);

      await sending;
      const finished = () => queue!.getJobCounts('completed', 'failed');
      let counts = await finished();
      for (const giveUpAt = Date.now() + COMPLETION_TIMEOUT_MS; Date.now() < giveUpAt;) {
        if (counts.completed! + counts.failed! >= EVENTS) break;
        await sleep(250);
        counts = await finished();
      }
      counts = await queue.getJobCounts();

      // What each event's handler did, by whom.
      const pipeline = client.pipeline();
      for (const event of events) pipeline.lrange(`${keys}runs:${event.id}`, 0, -1);
      const runs = new Map(
        ((await pipeline.exec()) ?? []).map(([, list], index) => [
          events[index]!.id,
          (list as string[]).map((run) => Number(run.split(':')[0])),
        ]),
      );
      const startedOnA = Object.keys(await client.hgetall(`${keys}starts:${a!.pid}`));
      const completedJobs = await queue.getCompleted(0, EVENTS);
      const completed = new Set(completedJobs.map((job) => job.id));
      // The jobs that BullMQ moved back to waiting after the kill: those A had in progress.
      const stalled = new Set(
        completedJobs.filter((job) => job.stalledCounter > 0).map((job) => job.id),
      );
      const runsOf = (count: number) => events.filter((e) => runs.get(e.id)!.length === count);
      const lost = events.filter(
        (event) =>
          !sender.acknowledged.has(event.id) ||
          !completed.has(event.id) ||
          runs.get(event.id)!.length === 0,
      );
      const twice = runsOf(2);
      const moreThanTwice = events.filter((e) => runs.get(e.id)!.length > 2);
      // Killed with a run under way: before its side effect (its job's next run is the only
      // one), or after it (the event ran twice).
      const cutShort = startedOnA.filter((eventId) => !runs.get(eventId)?.includes(a!.pid));
      const runsByPid: Record<string, number> = {};
      for (const pids of runs.values()) {
        for (const pid of pids) runsByPid[pid] = (runsByPid[pid] ?? 0) + 1;
      }
      const name = (pid: number) =>
        pid === a!.pid ? `A ${pid} (killed)` : pid === b!.pid ? `B ${pid}` : `A' ${pid}`;
      const runsByWorker = Object.fromEntries(
        Object.entries(runsByPid).map(([pid, count]) => [name(Number(pid)), count]),
      );
      const workerLogLines = workers
        .flatMap((worker) => worker.stderr.join('').split('\n'))
        .filter((line) => line.trim() !== '').length;
      console.log(
        `[queue-fleet] express receiver, workers on Nest ${modules.nest} / BullMQ ${modules.bullmq}: ` +
          `sent ${events.length} events (${deliveries.length} deliveries, ` +
          `${deliveries.length - events.length} duplicates) | answers ${JSON.stringify(sender.answers)} | ` +
          `attempts ${sender.attempts}, retries ${sender.retries}, gave up ${sender.gaveUp} | ` +
          `A ${a!.pid} killed (${killSignal}) by ${killedBy} after ${answeredAtKill} answers, ` +
          `${cutShort.length} of its runs cut short before their side effect, restarted as A' ${restarted.pid} | ` +
          `jobs ${JSON.stringify(counts)}, taken up again after stalling ${stalled.size} | ` +
          `runs by worker ${JSON.stringify(runsByWorker)} | ` +
          `events run once ${runsOf(1).length}, twice ${twice.length} ` +
          `(${twice.map((e) => runs.get(e.id)!.map(name).join(' then ')).join('; ') || 'none'}), ` +
          `more than twice ${moreThanTwice.length} | lost ${lost.length} | worker error/warning log lines ${workerLogLines}`,
      );

      // A was killed mid-run, with jobs in progress, which BullMQ gave to another worker.
      expect({ killSignal, killedBy }).toEqual({ killSignal: 'SIGKILL', killedBy: 'itself' });
      expect(answeredAtKill).toBeLessThan(deliveries.length);
      expect(stalled.size).toBeGreaterThanOrEqual(KILL_IN_PROGRESS);
      // Every delivery answered 2xx; every event's job completed, none failed; none lost.
      expect(sender.gaveUp).toBe(0);
      expect(counts).toMatchObject({ completed: EVENTS, failed: 0, active: 0, waiting: 0 });
      expect(lost.map((event) => event.id)).toEqual([]);
      // Run twice only in BullMQ's window: first on the killed worker, then on another one.
      expect(moreThanTwice.map((event) => event.id)).toEqual([]);
      for (const event of twice) {
        const [first, second] = runs.get(event.id)!;
        expect({ event: event.id, first, stalled: stalled.has(event.id) }).toEqual({
          event: event.id,
          first: a!.pid,
          stalled: true,
        });
        expect(second).not.toBe(a!.pid);
      }
      expect(stalled.size).toBeLessThanOrEqual(WORKER.concurrency);
    },
  );
});

/** SIGTERM (the worker finishes its jobs and exits), then SIGKILL if it has not within 20 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
