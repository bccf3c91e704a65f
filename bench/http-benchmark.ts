import type autocannon from 'autocannon';
import { signHopPayload } from 'nestjs-hop-webhooks';
import type { BenchConfig, TargetName } from './config.js';
import { SIGNATURE_HEADER, WEBHOOK_PATH, type BenchDelivery } from './fixture.js';
import { loadServer } from './load.js';
import { cpuUsPerDelivery, ServerProcess } from './processes.js';

/** How a load was answered, and how many deliveries the server accepted meanwhile. */
export interface LoadAnswers {
  readonly responses2xx: number;
  readonly non2xx: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
  /** Deliveries the server accepted: at least every one answered 2xx. */
  readonly handled: number;
}

/** One server's figures in one round. */
export interface RoundFigures extends LoadAnswers {
  readonly round: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMb: number;
  /** The server's CPU time (user + system) per delivery it accepted under measured load. */
  readonly serverCpuUsPerRequest: number;
  /** The load generator's CPU time over the load's wall time: 1 is one core, fully busy. */
  readonly generatorCpuShare: number;
}

/** One server over all rounds. */
export interface TargetFigures {
  readonly target: TargetName;
  readonly rounds: readonly RoundFigures[];
  /** The round with the most requests per second, the figure the tables and ratios use. */
  readonly best?: RoundFigures;
  /** Everything that went wrong: a failed start, non-2xx answers, errors, timeouts. */
  readonly failures: readonly string[];
}

/**
 * Loads every server in interleaved rounds (the order rotates each round), each in a fresh
 * child process, and keeps each server's best round.
 */
export async function runHttpBenchmark(
  config: BenchConfig,
  delivery: BenchDelivery,
  pool: readonly BenchDelivery[],
  progress: (line: string) => void,
): Promise<TargetFigures[]> {
  const rounds = new Map<TargetName, RoundFigures[]>(config.targets.map((t) => [t, []]));
  const failures = new Map<TargetName, string[]>(config.targets.map((t) => [t, []]));
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const target of rotate(config.targets, round, config.rounds)) {
      try {
        const figures = await measureOnce(target, round, config, delivery, pool);
        rounds.get(target)?.push(figures);
        const problems = problemsOf(figures);
        failures.get(target)?.push(...problems.map((problem) => `round ${round}: ${problem}`));
        progress(
          `  round ${round}/${config.rounds}  ${target.padEnd(18)}` +
            `${Math.round(figures.requestsPerSecond).toString().padStart(7)} req/s` +
            `  p99 ${figures.p99Ms} ms  CPU ${figures.serverCpuUsPerRequest.toFixed(1)} µs/req` +
            `${problems.length > 0 ? `  !!! ${problems.join('; ')}` : ''}`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.get(target)?.push(`round ${round}: ${message}`);
        progress(`  round ${round}/${config.rounds}  ${target.padEnd(18)} !!! ${message}`);
      }
    }
  }
  return config.targets.map((target) => {
    const measured = rounds.get(target) ?? [];
    const clean = measured.filter((figures) => problemsOf(figures).length === 0);
    const best = [...clean].sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0];
    return { target, rounds: measured, best, failures: failures.get(target) ?? [] };
  });
}

/**
 * Starts the server, checks it answers 204 and 401 as it should, loads it with the pool of
 * distinct deliveries, stops it.
 */
async function measureOnce(
  target: TargetName,
  round: number,
  config: BenchConfig,
  delivery: BenchDelivery,
  pool: readonly BenchDelivery[],
): Promise<RoundFigures> {
  const server = await ServerProcess.start(target);
  try {
    await checkAnswers(server, delivery);
    // Warmed up apart, at the same rate, so that the CPU time read counts measured load only.
    await loadServer(server.url, pool, {
      ...config,
      durationSeconds: config.warmupSeconds,
      warmupSeconds: 0,
    });
    const before = await server.stats();
    const generatorBefore = process.cpuUsage();
    const started = performance.now();
    const result = await loadServer(server.url, pool, { ...config, warmupSeconds: 0 });
    const generator = process.cpuUsage(generatorBefore);
    const elapsedUs = (performance.now() - started) * 1000;
    const after = await server.stats();
    return {
      // Warm-up and checks included: the count only has to cover the 2xx answers.
      ...loadAnswers(result, after.handled),
      round,
      requestsPerSecond: result.requests.mean,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      peakRssMb: after.maxRssKb / 1024,
      serverCpuUsPerRequest: cpuUsPerDelivery(before, after),
      generatorCpuShare: (generator.user + generator.system) / elapsedUs,
    };
  } finally {
    await server.stop();
  }
}

/**
 * One signed delivery must be answered 204 and a wrongly signed one 401, so that every server
 * measured really verifies (and a misrouted one cannot look fast answering 404).
 */
export async function checkAnswers(server: ServerProcess, delivery: BenchDelivery): Promise<void> {
  const post = (signature: string): Promise<Response> =>
    fetch(`${server.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      body: delivery.body,
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    });
  const signed = await post(delivery.signature);
  const forged = await post(signHopPayload(delivery.body, 'whsec_not_the_secret'));
  await Promise.all([signed.arrayBuffer(), forged.arrayBuffer()]);
  if (signed.status !== 204 || forged.status !== 401) {
    throw new Error(
      `${server.target} answered ${signed.status} to a signed delivery and ${forged.status} to a forged one (expected 204 and 401)`,
    );
  }
}

/** A load's answers, with the deliveries the server accepted while it ran. */
export function loadAnswers(result: autocannon.Result, handled: number): LoadAnswers {
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
  );
  return {
    responses2xx: result['2xx'],
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    handled,
  };
}

/** What makes a load's figures invalid: any answer but 2xx, or 2xx the server did not count. */
export function problemsOf(figures: LoadAnswers): string[] {
  const problems: string[] = [];
  if (figures.non2xx > 0) {
    const codes = Object.entries(figures.statusCodes)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, count]) => `${count}× ${code}`)
      .join(', ');
    problems.push(`${figures.non2xx} non-2xx responses (${codes})`);
  }
  if (figures.errors > 0) problems.push(`${figures.errors} errors`);
  if (figures.timeouts > 0) problems.push(`${figures.timeouts} timeouts`);
  if (figures.responses2xx === 0) problems.push('no 2xx response at all');
  if (figures.handled < figures.responses2xx) {
    problems.push(
      `only ${figures.handled} deliveries handled for ${figures.responses2xx} answered 2xx`,
    );
  }
  return problems;
}

/** The targets in the order of this round: rotated so each round starts elsewhere. */
function rotate<T>(items: readonly T[], round: number, rounds: number): T[] {
  const offset = Math.floor(((round - 1) * items.length) / rounds) % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}
