import type { BootstrapResult, BootstrapVariant } from './bootstrap.js';
import type { TargetName } from './config.js';
import type { RoundFigures, TargetFigures } from './http-benchmark.js';
import type { RatioCheck } from './ratios.js';
import { median, quantile } from './stats.js';
import { formatCount, formatFixed, formatTable } from './table.js';
import type { QueueLatencyResult } from './queue-latency.js';
import type { TelemetryNoopResult } from './telemetry-noop.js';
import type { VerifyCaseName, VerifyResult } from './verify.js';

/** What each server is compared with in the table's last column. */
export const BASELINE_OF: Readonly<Record<TargetName, TargetName | undefined>> = {
  floor: undefined,
  'hop-example': 'floor',
  'nest-express-bare': 'floor',
  'module-express-without-telemetry': 'nest-express-bare',
  'module-express': 'nest-express-bare',
  'module-express-sdk': 'module-express',
  'module-express-queue': 'module-express',
  'nest-fastify-bare': 'floor',
  'module-fastify-without-telemetry': 'nest-fastify-bare',
  'module-fastify': 'nest-fastify-bare',
  'module-fastify-sdk': 'module-fastify',
  'module-fastify-queue': 'module-fastify',
};

/**
 * A server's CPU time per delivery: the median over its clean rounds, steadier than the best
 * round's on a shared machine.
 */
export function medianCpuUsPerRequest(figures: TargetFigures): number | undefined {
  const clean = figures.rounds.filter((r) => r.non2xx === 0 && r.errors + r.timeouts === 0);
  return clean.length === 0 ? undefined : median(clean.map((r) => r.serverCpuUsPerRequest));
}

/**
 * How a server's CPU time per delivery compares with another's: the median, over the rounds
 * both ran cleanly, of the two rounds' ratio. Their rounds ran next to each other, so a busy
 * spell on the shared machine weighs on both sides of a ratio; it would tip the median of each
 * server's own rounds instead.
 */
export function pairedCpuRatio(server: TargetFigures, baseline: TargetFigures): number | undefined {
  const clean = (round: RoundFigures) => round.non2xx === 0 && round.errors + round.timeouts === 0;
  const ratios = server.rounds.flatMap((round) => {
    const other = baseline.rounds.find((candidate) => candidate.round === round.round);
    return other && clean(round) && clean(other)
      ? [round.serverCpuUsPerRequest / other.serverCpuUsPerRequest]
      : [];
  });
  return ratios.length === 0 ? undefined : median(ratios);
}

export function formatHttpTable(figures: readonly TargetFigures[]): string {
  const byTarget = new Map(figures.map((f) => [f.target, f]));
  const rows = figures.map((own): string[] => {
    const { target, best: round, rounds, failures } = own;
    const baseline = BASELINE_OF[target];
    const baselineFigures = baseline ? byTarget.get(baseline) : undefined;
    const baselineRps = baselineFigures?.best?.requestsPerSecond;
    const cpuRatio = baselineFigures && pairedCpuRatio(own, baselineFigures);
    const ownCpu = medianCpuUsPerRequest(own);
    const everyRound = rounds.map((r) => formatCount(r.requestsPerSecond)).join(' / ');
    if (!round) {
      const why = failures.length > 0 ? 'see FAILURES' : '';
      return [target, 'FAILED', '', '', '', '', '', '', '', everyRound || '-', why, ''];
    }
    return [
      target,
      formatCount(round.requestsPerSecond),
      formatFixed(round.p50Ms, 0),
      formatFixed(round.p99Ms, 0),
      formatCount(sum(rounds, (r) => r.non2xx)),
      formatCount(sum(rounds, (r) => r.errors + r.timeouts)),
      formatFixed(Math.max(...rounds.map((r) => r.peakRssMb)), 0),
      ownCpu === undefined ? '' : formatFixed(ownCpu, 1),
      `${formatFixed(100 * round.generatorCpuShare, 0)}%`,
      everyRound,
      baseline && baselineRps
        ? `${formatFixed(round.requestsPerSecond / baselineRps, 2)}× ${baseline}`
        : '',
      cpuRatio === undefined ? '' : `${formatFixed(cpuRatio, 2)}×`,
    ];
  });
  return formatTable(
    [
      'server',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      'peak RSS MB',
      'server CPU µs/req (median)',
      'load-gen CPU',
      'req/s per round',
      'req/s vs baseline',
      'CPU/req vs baseline (paired rounds)',
    ],
    rows,
  );
}

const VERIFY_ORDER: readonly VerifyCaseName[] = [
  'bareHmac',
  'constructHopEvent',
  'onehopConstructEvent',
];

export function formatVerifyTable(result: VerifyResult): string {
  const floor = result.cases.bareHmac.nsPerOp;
  const rows = VERIFY_ORDER.map((name) => {
    const figures = result.cases[name];
    return [
      figures.label,
      formatCount(figures.nsPerOp),
      formatCount(figures.opsPerSecond),
      `${formatFixed(figures.nsPerOp / floor, 2)}×`,
    ];
  });
  return formatTable(['verification of one delivery', 'ns/op', 'ops/s', 'vs floor'], rows);
}

const VARIANT_LABELS: Readonly<Record<BootstrapVariant, string>> = {
  hopDecorated: '(i) HopWebhooksModule + 1,000 @OnHopEvent methods',
  hopUndecorated: '(ii) HopWebhooksModule + the same methods undecorated',
  eventEmitterDecorated: '(iii) EventEmitterModule + 1,000 @OnEvent methods',
  eventEmitterUndecorated: '(iv) EventEmitterModule + the same methods undecorated',
};

export function formatBootstrapTable(result: BootstrapResult): string {
  const rows = (Object.keys(VARIANT_LABELS) as BootstrapVariant[]).map((variant) => {
    const figures = result.variants[variant];
    return [
      VARIANT_LABELS[variant],
      formatFixed(figures.createMs, 1),
      formatFixed(figures.initMs, 1),
      `${formatFixed(quantile(figures.initSamplesMs, 0.25), 1)} – ${formatFixed(quantile(figures.initSamplesMs, 0.75), 1)}`,
    ];
  });
  const wiring = [
    ['wiring @OnHopEvent = (i) - (ii)', '', formatFixed(result.wiringMs.hop, 1), ''],
    ['wiring @OnEvent = (iii) - (iv)', '', formatFixed(result.wiringMs.eventEmitter, 1), ''],
  ];
  return formatTable(
    ['app (100 providers x 10 methods)', 'create ms', 'init ms', 'init ms q1 – q3'],
    [...rows, ...wiring],
  );
}

export function formatQueueLatencyTable(result: QueueLatencyResult): string {
  return formatTable(
    [
      'queue mode, steady load',
      'req/s',
      'answered 2xx',
      'non-2xx',
      'handlers run',
      'p50 ms',
      'p99 ms',
      'max ms',
    ],
    [
      [
        `${result.seconds} s, receiver + worker (concurrency 10), Fastify`,
        formatCount(result.rate),
        formatCount(result.answered2xx),
        formatCount(result.non2xx),
        formatCount(result.handled),
        formatFixed(result.p50Ms, 1),
        formatFixed(result.p99Ms, 1),
        formatFixed(result.maxMs, 0),
      ],
    ],
  );
}

export function formatTelemetryNoopTable(result: TelemetryNoopResult): string {
  return formatTable(
    ['telemetry without an SDK', 'ns per delivery'],
    [['traceRequest + startHandler (one handler)', formatFixed(result.nsPerDelivery, 0)]],
  );
}

export function formatRatioTable(ratios: readonly RatioCheck[]): string {
  const rows = ratios.map((ratio) => [
    ratio.name,
    ratio.value === null ? 'n/a' : formatFixed(ratio.value, 2),
    `${ratio.comparison === '>=' ? '≥' : '≤'} ${ratio.target}`,
    ratio.pass === null ? 'n/a' : ratio.pass ? 'PASS' : 'MISS',
  ]);
  return formatTable(['ratio', 'value', 'target', 'result'], rows);
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
