/** The HTTP servers under test, in the order the tables show them (each after its baseline). */
export const TARGETS = [
  'floor',
  'hop-example',
  'nest-express-bare',
  'module-express-without-telemetry',
  'module-express',
  'module-express-sdk',
  'module-express-queue',
  'nest-fastify-bare',
  'module-fastify-without-telemetry',
  'module-fastify',
  'module-fastify-sdk',
  'module-fastify-queue',
] as const;

export type TargetName = (typeof TARGETS)[number];

/** The knobs of one `npm run bench`, from the environment. */
export interface BenchConfig {
  /** `BENCH_QUICK=1`: a short smoke run (about a minute), not figures to quote. */
  readonly quick: boolean;
  /** `BENCH_CONNECTIONS`: concurrent keep-alive connections of the load generator. */
  readonly connections: number;
  /** `BENCH_WARMUP`: seconds of load before each measurement, discarded. */
  readonly warmupSeconds: number;
  /** `BENCH_DURATION`: seconds of measured load per server and round. */
  readonly durationSeconds: number;
  /** `BENCH_ROUNDS`: interleaved rounds over all servers; the best round counts. */
  readonly rounds: number;
  /**
   * `BENCH_RATE`: requests per second for the whole load, instead of as many as the server
   * takes. At a steady rate every server does the same work per second, so its CPU time per
   * delivery is not skewed by how busy the machine and the load generator are.
   */
  readonly rate?: number;
  /**
   * `BENCH_QUEUE_RATE`: deliveries per second for queue mode's time from delivery to handler
   * start, a steady load a worker keeps up with.
   */
  readonly queueRate: number;
  /**
   * `BENCH_PAIR_RATE`: requests per second each server of a pair gets while the module and its
   * baseline are loaded at the same time (`cpu-pairs.ts`).
   */
  readonly pairRate: number;
  /** `BENCH_PAIR_WINDOWS`: measured windows per pair, each giving one ratio. */
  readonly pairWindows: number;
  /** `BENCH_PAIR_SECONDS`: seconds per window. */
  readonly pairWindowSeconds: number;
  /** `BENCH_ONLY`: a comma-separated subset of the servers (the other sections still run). */
  readonly targets: readonly TargetName[];
  /** Timed batches per case of the verification micro-benchmark. */
  readonly verifyBatches: number;
  /** Timed bootstraps per variant of the bootstrap benchmark. */
  readonly bootstrapRepeats: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  return {
    quick,
    connections: integer(env, 'BENCH_CONNECTIONS', 50),
    warmupSeconds: seconds(env, 'BENCH_WARMUP', quick ? 1 : 2),
    durationSeconds: seconds(env, 'BENCH_DURATION', quick ? 2 : 6),
    rounds: integer(env, 'BENCH_ROUNDS', quick ? 1 : 3),
    rate: env.BENCH_RATE ? integer(env, 'BENCH_RATE', 1) : undefined,
    queueRate: integer(env, 'BENCH_QUEUE_RATE', 500),
    pairRate: integer(env, 'BENCH_PAIR_RATE', 1500),
    pairWindows: integer(env, 'BENCH_PAIR_WINDOWS', quick ? 3 : 15),
    pairWindowSeconds: seconds(env, 'BENCH_PAIR_SECONDS', quick ? 2 : 4),
    targets: targets(env.BENCH_ONLY),
    verifyBatches: quick ? 5 : 15,
    bootstrapRepeats: quick ? 15 : 25,
  };
}

/** The positive whole number in `env[name]`, or `fallback` when it is unset or empty. */
export function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function targets(raw: string | undefined): readonly TargetName[] {
  if (raw === undefined || raw.trim() === '') return TARGETS;
  const wanted = raw.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !(TARGETS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_ONLY names unknown servers ${unknown.join(', ')}; known: ${TARGETS.join(', ')}`,
    );
  }
  return TARGETS.filter((name) => wanted.includes(name));
}
