// CPU per delivery of the module against its bare-Nest baseline, with both servers loaded at
// the same time: on a shared machine the cost of the same work swings by half within a run,
// and a busy spell then weighs on both sides of each ratio instead of on whichever server
// happened to be measured during it.
import type { BenchConfig, TargetName } from './config.js';
import type { BenchDelivery } from './fixture.js';
import { checkAnswers, loadAnswers, problemsOf } from './http-benchmark.js';
import { loadServer } from './load.js';
import { cpuUsPerDelivery, ServerProcess } from './processes.js';
import { median } from './stats.js';
import { formatCount, formatFixed, formatTable } from './table.js';

/** The module and its baseline, on each adapter. */
export const CPU_PAIRS: ReadonlyArray<readonly [module: TargetName, baseline: TargetName]> = [
  ['module-express', 'nest-express-bare'],
  ['module-fastify', 'nest-fastify-bare'],
];

/** One measured window: each server's CPU time per delivery over the same seconds. */
export interface CpuWindow {
  readonly moduleUs: number;
  readonly baselineUs: number;
}

export interface CpuPairResult {
  readonly module: TargetName;
  readonly baseline: TargetName;
  /** Requests per second each server was loaded with. */
  readonly rate: number;
  readonly windows: readonly CpuWindow[];
  /** The median of the windows' module / baseline ratios; undefined if no window was clean. */
  readonly ratio?: number;
  /**
   * Bytes each allocated per delivery over one more window, sampled by V8's heap profiler
   * (which slows the servers, so that window's CPU time is not counted). Unlike CPU time on
   * a shared machine, this hardly moves from run to run.
   */
  readonly allocatedBytes?: { readonly module: number; readonly baseline: number };
  readonly failures: readonly string[];
}

/** Loads each selected pair at once, window after window, and pairs their CPU per delivery. */
export async function runCpuPairs(
  config: BenchConfig,
  delivery: BenchDelivery,
  pool: readonly BenchDelivery[],
  progress: (line: string) => void,
): Promise<CpuPairResult[]> {
  const pairs = CPU_PAIRS.filter((pair) => pair.every((t) => config.targets.includes(t)));
  const results: CpuPairResult[] = [];
  for (const [module, baseline] of pairs) {
    const failures: string[] = [];
    const windows: CpuWindow[] = [];
    const servers: ServerProcess[] = [];
    let allocatedBytes: CpuPairResult['allocatedBytes'];
    try {
      for (const target of [module, baseline]) servers.push(await ServerProcess.start(target));
      for (const server of servers) await checkAnswers(server, delivery);
      const load = (seconds: number) =>
        Promise.all(
          servers.map((server) =>
            loadServer(server.url, pool, {
              connections: config.connections,
              warmupSeconds: 0,
              durationSeconds: seconds,
              rate: config.pairRate,
            }),
          ),
        );
      await load(config.warmupSeconds);
      for (let window = 1; window <= config.pairWindows; window += 1) {
        const before = await Promise.all(servers.map((server) => server.stats()));
        const answers = await load(config.pairWindowSeconds);
        const after = await Promise.all(servers.map((server) => server.stats()));
        const [moduleUs, baselineUs] = servers.map((_, i) =>
          cpuUsPerDelivery(before[i]!, after[i]!),
        ) as [number, number];
        const problems = answers.flatMap((result, i) =>
          problemsOf(loadAnswers(result, after[i]!.handled - before[i]!.handled)).map(
            (problem) => `${servers[i]!.target}: ${problem}`,
          ),
        );
        failures.push(...problems.map((problem) => `window ${window}: ${problem}`));
        if (problems.length === 0) windows.push({ moduleUs, baselineUs });
        progress(
          `  window ${window}/${config.pairWindows}  ${module} ${formatFixed(moduleUs, 1)} µs/req, ` +
            `${baseline} ${formatFixed(baselineUs, 1)} µs/req: ${formatFixed(moduleUs / baselineUs, 3)}` +
            (problems.length > 0 ? `  !!! ${problems.join('; ')}` : ''),
        );
      }
      await Promise.all(servers.map((server) => server.sampleAllocations(true)));
      const before = await Promise.all(servers.map((server) => server.stats()));
      await load(config.pairWindowSeconds);
      const sampled = await Promise.all(servers.map((server) => server.sampleAllocations(false)));
      const [moduleBytes, baselineBytes] = sampled.map(
        ({ bytes, handled }, i) => bytes / Math.max(1, handled - before[i]!.handled),
      ) as [number, number];
      allocatedBytes = { module: moduleBytes, baseline: baselineBytes };
      progress(
        `  allocated per delivery: ${module} ${Math.round(moduleBytes)} B, ` +
          `${baseline} ${Math.round(baselineBytes)} B`,
      );
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      progress(`  ${module} / ${baseline} !!! ${failures.at(-1)}`);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
    const ratios = windows.map((w) => w.moduleUs / w.baselineUs);
    results.push({
      module,
      baseline,
      rate: config.pairRate,
      windows,
      ratio: ratios.length === 0 ? undefined : median(ratios),
      allocatedBytes,
      failures,
    });
  }
  return results;
}

export function formatCpuPairsTable(results: readonly CpuPairResult[]): string {
  const rows = results.map(({ module, baseline, windows, ratio, allocatedBytes }) => {
    const ratios = windows.map((w) => w.moduleUs / w.baselineUs);
    const of = (pick: (w: CpuWindow) => number) =>
      windows.length === 0 ? '' : formatFixed(median(windows.map(pick)), 1);
    return [
      `${module} / ${baseline}`,
      String(windows.length),
      of((w) => w.moduleUs),
      of((w) => w.baselineUs),
      of((w) => w.moduleUs - w.baselineUs),
      ratio === undefined ? 'FAILED' : `${formatFixed(ratio, 3)}×`,
      ratios.length === 0
        ? ''
        : `${formatFixed(Math.min(...ratios), 2)}–${formatFixed(Math.max(...ratios), 2)}`,
      allocatedBytes
        ? `${formatCount(allocatedBytes.module)} / ${formatCount(allocatedBytes.baseline)}`
        : '',
    ];
  });
  return formatTable(
    [
      'module / baseline',
      'windows',
      'module µs/req',
      'baseline µs/req',
      'difference µs',
      'CPU/req ratio (median)',
      'range',
      'allocated B/delivery, module / baseline',
    ],
    rows,
  );
}
