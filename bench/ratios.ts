import type { BootstrapResult } from './bootstrap.js';
import type { TargetName } from './config.js';
import type { TargetFigures } from './http-benchmark.js';
import type { CpuPairResult } from './cpu-pairs.js';
import type { VerifyResult } from './verify.js';
import { pairedCpuRatio } from './report.js';
import { STORE_HEAP_BOUND_MB, type StoreMemoryResult } from './store-memory.js';

/** One ratio of the run against its target. */
export interface RatioCheck {
  readonly name: string;
  /** `null` when a figure it needs is missing (a server failed or was not selected). */
  readonly value: number | null;
  readonly comparison: '>=' | '<=';
  readonly target: number;
  readonly pass: boolean | null;
}

function check(
  name: string,
  value: number | null,
  comparison: '>=' | '<=',
  target: number,
): RatioCheck {
  const pass =
    value === null || !Number.isFinite(value)
      ? null
      : comparison === '>='
        ? value >= target
        : value <= target;
  return {
    name,
    value: value !== null && Number.isFinite(value) ? value : null,
    comparison,
    target,
    pass,
  };
}

/** The targets of the README's performance promises, from the figures of one run. */
export function computeRatios(
  http: readonly TargetFigures[],
  verify: VerifyResult | undefined,
  bootstrap: BootstrapResult | undefined,
  storeMemory?: StoreMemoryResult,
  cpuPairs: readonly CpuPairResult[] = [],
): RatioCheck[] {
  const rps = (target: TargetName): number | undefined =>
    http.find((figures) => figures.target === target)?.best?.requestsPerSecond;
  const throughput = (a: TargetName, b: TargetName): number | null => {
    const [x, y] = [rps(a), rps(b)];
    return x === undefined || y === undefined ? null : x / y;
  };
  const cpuRatio = (a: TargetName, b: TargetName): number | null => {
    const [x, y] = [a, b].map((target) => http.find((figures) => figures.target === target));
    return (x && y && pairedCpuRatio(x, y)) ?? null;
  };
  const atOnce = (module: TargetName): number | null =>
    cpuPairs.find((pair) => pair.module === module)?.ratio ?? null;
  const cases = verify?.cases;
  return [
    check(
      'CPU/req module-express / nest-express-bare, both at once',
      atOnce('module-express'),
      '<=',
      1.1,
    ),
    check(
      'CPU/req module-fastify / nest-fastify-bare, both at once',
      atOnce('module-fastify'),
      '<=',
      1.1,
    ),
    check(
      'CPU/req module-express / nest-express-bare',
      cpuRatio('module-express', 'nest-express-bare'),
      '<=',
      1.1,
    ),
    check(
      'CPU/req module-fastify / nest-fastify-bare',
      cpuRatio('module-fastify', 'nest-fastify-bare'),
      '<=',
      1.1,
    ),
    check(
      'CPU/req module-express / without telemetry (no SDK)',
      cpuRatio('module-express', 'module-express-without-telemetry'),
      '<=',
      1.02,
    ),
    check(
      'CPU/req module-fastify / without telemetry (no SDK)',
      cpuRatio('module-fastify', 'module-fastify-without-telemetry'),
      '<=',
      1.02,
    ),
    check(
      'req/s module-express / nest-express-bare',
      throughput('module-express', 'nest-express-bare'),
      '>=',
      0.95,
    ),
    check(
      'req/s module-fastify / nest-fastify-bare',
      throughput('module-fastify', 'nest-fastify-bare'),
      '>=',
      0.95,
    ),
    check('req/s module-fastify / floor', throughput('module-fastify', 'floor'), '>=', 0.75),
    check(
      'req/s module-fastify / hop-example',
      throughput('module-fastify', 'hop-example'),
      '>=',
      3,
    ),
    check(
      'verify time constructHopEvent / bare HMAC',
      cases ? cases.constructHopEvent.nsPerOp / cases.bareHmac.nsPerOp : null,
      '<=',
      1.3,
    ),
    check(
      'verify time @onehop constructEvent / constructHopEvent',
      cases ? cases.onehopConstructEvent.nsPerOp / cases.constructHopEvent.nsPerOp : null,
      '>=',
      20,
    ),
    check(
      'wiring time @OnHopEvent / @OnEvent (1,000 handlers)',
      // A non-positive denominator means the event-emitter's wiring drowned in the noise.
      bootstrap && bootstrap.wiringMs.eventEmitter > 0
        ? bootstrap.wiringMs.hop / bootstrap.wiringMs.eventEmitter
        : null,
      '<=',
      1.5,
    ),
    check(
      'store heap MB after 200,000 ids (default capacity)',
      storeMemory ? storeMemory.heapAfterAllMb : null,
      '<=',
      STORE_HEAP_BOUND_MB,
    ),
    check(
      'store heap after 200,000 ids / when first full (flat)',
      storeMemory && storeMemory.heapAtCapacityMb > 0
        ? storeMemory.heapAfterAllMb / storeMemory.heapAtCapacityMb
        : null,
      '<=',
      1.5,
    ),
  ];
}
