// `npm run bench`: loads six servers (each in its own child process) with autocannon from this
// process, then times verification alone and handler wiring at startup, each in a child of
// its own. Tables per section, the ratios against their targets, and as the last line one
// JSON object with every figure. Exit code 1 when a server failed or answered non-2xx.
import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BootstrapResult } from './bootstrap.js';
import { loadConfig, type BenchConfig } from './config.js';
import { benchDeliveries, benchDelivery, DELIVERY_POOL_SIZE } from './fixture.js';
import { formatCpuPairsTable, runCpuPairs } from './cpu-pairs.js';
import { runHttpBenchmark, type TargetFigures } from './http-benchmark.js';
import { runMeasuringChild, runOrchestrator } from './processes.js';
import { computeRatios } from './ratios.js';
import {
  formatBootstrapTable,
  formatHttpTable,
  formatQueueLatencyTable,
  formatRatioTable,
  formatTelemetryNoopTable,
  formatVerifyTable,
  medianCpuUsPerRequest,
} from './report.js';
import { round } from './stats.js';
import type { VerifyResult } from './verify.js';
import { formatStoreMemoryTable, type StoreMemoryResult } from './store-memory.js';
import type { QueueLatencyResult } from './queue-latency.js';
import type { TelemetryNoopResult } from './telemetry-noop.js';

function machine(): Record<string, string | number> {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${platform()} ${arch()}`,
  };
}

/** Which library was measured: the commit, and how many files of lib/ differ from it. */
function libraryState(): { commit: string; changedLibFiles: number } | null {
  const cwd = fileURLToPath(new URL('../../', import.meta.url));
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const changed = git('status', '--porcelain', '--', 'lib').split('\n').filter(Boolean).length;
    return { commit, changedLibFiles: changed };
  } catch {
    return null;
  }
}

function heading(title: string): void {
  console.log(`\n== ${title}\n`);
}

function httpSummary(figures: readonly TargetFigures[]): Record<string, unknown> {
  return Object.fromEntries(
    figures.map((target) => {
      const { best, rounds, failures } = target;
      const cpu = medianCpuUsPerRequest(target);
      return [
        target.target,
        {
          reqPerSec: best ? round(best.requestsPerSecond, 0) : null,
          p50Ms: best?.p50Ms ?? null,
          p99Ms: best?.p99Ms ?? null,
          non2xx: rounds.reduce((total, r) => total + r.non2xx, 0),
          errors: rounds.reduce((total, r) => total + r.errors, 0),
          timeouts: rounds.reduce((total, r) => total + r.timeouts, 0),
          peakRssMb:
            rounds.length > 0 ? round(Math.max(...rounds.map((r) => r.peakRssMb)), 1) : null,
          serverCpuUsPerRequest: cpu === undefined ? null : round(cpu, 1),
          loadGeneratorCpu: best ? round(best.generatorCpuShare, 2) : null,
          reqPerSecPerRound: rounds.map((r) => round(r.requestsPerSecond, 0)),
          cpuUsPerRequestPerRound: rounds.map((r) => round(r.serverCpuUsPerRequest, 1)),
          failures,
        },
      ];
    }),
  );
}

function describeConfig(config: BenchConfig, bodyBytes: number): string {
  return (
    `${config.connections} connections, ${config.warmupSeconds} s warm-up (discarded) + ` +
    `${config.durationSeconds} s measured per server, ${config.rounds} interleaved round(s), ` +
    `best round per server (CPU per delivery: median of rounds)` +
    (config.rate === undefined ? '' : `, at a steady ${config.rate} req/s`) +
    `; POST ${bodyBytes}-byte signed ignite.deployment.build.updated, ` +
    `${DELIVERY_POOL_SIZE.toLocaleString('en-US')} distinct event ids in turn` +
    (config.quick ? '  [BENCH_QUICK: smoke run, not figures to quote]' : '')
  );
}

async function main(): Promise<number> {
  const config = loadConfig();
  const delivery = benchDelivery();
  const pool = benchDeliveries();
  const bodyBytes = delivery.bodyBytes.length;
  const started = performance.now();
  const failures: string[] = [];
  const host = machine();
  const library = libraryState();
  console.log(
    `nestjs-hop-webhooks benchmark on ${host.cpu} (${host.cores} cores), Node ${host.node}` +
      (library
        ? `; library at ${library.commit}, ${library.changedLibFiles} file(s) of lib/ changed`
        : ''),
  );

  heading(`HTTP: ${describeConfig(config, bodyBytes)}`);
  const http = await runHttpBenchmark(config, delivery, pool, (line) => console.log(line));
  console.log(`\n${formatHttpTable(http)}`);
  for (const { target, failures: problems } of http) {
    for (const problem of problems) failures.push(`${target} ${problem}`);
  }

  heading(
    `CPU per delivery, module and baseline loaded at the same time: ${config.pairRate} req/s each, ` +
      `${config.pairWindows} windows of ${config.pairWindowSeconds} s after ${config.warmupSeconds} s of warm-up`,
  );
  const cpuPairs = await runCpuPairs(config, delivery, pool, (line) => console.log(line));
  console.log(`\n${formatCpuPairsTable(cpuPairs)}`);
  for (const { module, failures: problems } of cpuPairs) {
    for (const problem of problems) failures.push(`${module} side by side: ${problem}`);
  }

  heading(
    `Verification alone: median of ${config.verifyBatches} interleaved batches (child process)`,
  );
  let verify: VerifyResult | undefined;
  try {
    verify = await runMeasuringChild<VerifyResult>('./verify.js');
    console.log(formatVerifyTable(verify));
  } catch (error) {
    failures.push(`verify: ${error instanceof Error ? error.message : String(error)}`);
    console.log('!!! the verification benchmark failed');
  }

  heading(
    `Bootstrap: wiring 1,000 handlers, Express app, logger off, median of ${config.bootstrapRepeats} (child process)`,
  );
  let bootstrap: BootstrapResult | undefined;
  try {
    bootstrap = await runMeasuringChild<BootstrapResult>('./bootstrap.js', ['--expose-gc']);
    console.log(formatBootstrapTable(bootstrap));
  } catch (error) {
    failures.push(`bootstrap: ${error instanceof Error ? error.message : String(error)}`);
    console.log('!!! the bootstrap benchmark failed');
  }

  heading('Idempotency store memory: 200,000 distinct event ids (child process)');
  let storeMemory: StoreMemoryResult | undefined;
  try {
    storeMemory = await runMeasuringChild<StoreMemoryResult>('./store-memory.js', ['--expose-gc']);
    console.log(formatStoreMemoryTable(storeMemory));
  } catch (error) {
    failures.push(`store memory: ${error instanceof Error ? error.message : String(error)}`);
    console.log('!!! the store memory benchmark failed');
  }

  heading('Telemetry without an OpenTelemetry SDK: per delivery, in a loop (child process)');
  let telemetryNoop: TelemetryNoopResult | undefined;
  try {
    telemetryNoop = await runMeasuringChild<TelemetryNoopResult>('./telemetry-noop.js');
    console.log(formatTelemetryNoopTable(telemetryNoop));
  } catch (error) {
    failures.push(`telemetry: ${error instanceof Error ? error.message : String(error)}`);
    console.log('!!! the telemetry benchmark failed');
  }

  heading(
    `Queue mode: time from delivery to handler start at ${config.queueRate} deliveries/s (child process)`,
  );
  let queueLatency: QueueLatencyResult | undefined;
  try {
    queueLatency = await runMeasuringChild<QueueLatencyResult>('./queue-latency.js');
    console.log(formatQueueLatencyTable(queueLatency));
  } catch (error) {
    failures.push(`queue latency: ${error instanceof Error ? error.message : String(error)}`);
    console.log('!!! the queue latency benchmark failed');
  }

  heading('Ratios (same run)');
  const ratios = computeRatios(http, verify, bootstrap, storeMemory, cpuPairs);
  console.log(formatRatioTable(ratios));
  const missed = ratios.filter((ratio) => ratio.pass === false).map((ratio) => ratio.name);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\n${missed.length} of ${ratios.length} targets missed; ran ${seconds.toFixed(0)} s.`,
  );
  if (failures.length > 0) {
    console.log('\n!!!!!!!! FAILURES: these figures are not valid !!!!!!!!');
    for (const failure of failures) console.log(`!!! ${failure}`);
  }

  const summary = {
    machine: host,
    library,
    config: { ...config, bodyBytes, selection: 'best round by req/s' },
    http: httpSummary(http),
    cpuPairs: cpuPairs.map(
      ({ module, baseline, rate, windows, ratio, allocatedBytes, failures: problems }) => ({
        module,
        baseline,
        rate,
        ratio: ratio === undefined ? null : round(ratio, 3),
        allocatedBytesPerDelivery: allocatedBytes && {
          module: round(allocatedBytes.module, 0),
          baseline: round(allocatedBytes.baseline, 0),
        },
        moduleUsPerWindow: windows.map((w) => round(w.moduleUs, 1)),
        baselineUsPerWindow: windows.map((w) => round(w.baselineUs, 1)),
        failures: problems,
      }),
    ),
    verify: verify && {
      bodyBytes: verify.bodyBytes,
      batches: verify.batches,
      cases: Object.fromEntries(
        Object.entries(verify.cases).map(([name, figures]) => [
          name,
          { nsPerOp: round(figures.nsPerOp, 0), opsPerSec: round(figures.opsPerSecond, 0) },
        ]),
      ),
    },
    bootstrap: bootstrap && {
      handlers: bootstrap.handlers,
      repeats: bootstrap.repeats,
      medians: Object.fromEntries(
        Object.entries(bootstrap.variants).map(([name, figures]) => [
          name,
          { createMs: round(figures.createMs, 1), initMs: round(figures.initMs, 1) },
        ]),
      ),
      wiringMs: {
        hop: round(bootstrap.wiringMs.hop, 1),
        eventEmitter: round(bootstrap.wiringMs.eventEmitter, 1),
      },
    },
    storeMemory: storeMemory && {
      ids: storeMemory.ids,
      capacity: storeMemory.capacity,
      heapAtCapacityMb: round(storeMemory.heapAtCapacityMb, 2),
      heapAfterAllMb: round(storeMemory.heapAfterAllMb, 2),
      naiveSetMb: round(storeMemory.naiveSetMb, 2),
    },
    telemetryNoop: telemetryNoop && { nsPerDelivery: round(telemetryNoop.nsPerDelivery, 0) },
    queueLatency: queueLatency && {
      ...queueLatency,
      p50Ms: round(queueLatency.p50Ms, 1),
      p99Ms: round(queueLatency.p99Ms, 1),
    },
    ratios: ratios.map((ratio) => ({
      ...ratio,
      value: ratio.value === null ? null : round(ratio.value, 3),
    })),
    missed,
    failures,
    seconds: round(seconds, 0),
    ok: failures.length === 0,
  };
  console.log(JSON.stringify(summary));
  return failures.length === 0 ? 0 : 1;
}

runOrchestrator(main);
