// Verification alone, per call, on the benchmark's delivery: the module's constructHopEvent,
// Hop's SDK constructEvent, and the bare node:crypto floor. Run by run.ts in a child process
// of its own (it reports through IPC), or directly: node bench/dist/verify.js
import { constructEvent } from '@onehop/js';
import { constructHopEvent } from 'nestjs-hop-webhooks';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadConfig } from './config.js';
import { benchDelivery, SECRET } from './fixture.js';
import { reportMeasurement } from './ipc.js';
import { median } from './stats.js';
import { formatVerifyTable } from './report.js';

export type VerifyCaseName = 'constructHopEvent' | 'onehopConstructEvent' | 'bareHmac';

export interface VerifyCaseFigures {
  readonly label: string;
  /** Median over the batches. */
  readonly nsPerOp: number;
  readonly opsPerSecond: number;
  readonly batchNsPerOp: readonly number[];
}

export interface VerifyResult {
  readonly bodyBytes: number;
  readonly batches: number;
  readonly cases: Readonly<Record<VerifyCaseName, VerifyCaseFigures>>;
}

interface VerifyCase {
  readonly name: VerifyCaseName;
  readonly label: string;
  /** Whether each call is awaited before the next starts. */
  readonly async: boolean;
  readonly call: () => unknown;
}

const BATCH_MS = 80;
const WARMUP_MS = 400;

let sink: unknown;

export async function runVerifyBenchmark(batches: number): Promise<VerifyResult> {
  const delivery = benchDelivery();
  const rawBody = Buffer.from(delivery.body, 'utf8');
  const { signature } = delivery;
  const cases: readonly VerifyCase[] = [
    {
      name: 'constructHopEvent',
      label: 'constructHopEvent(rawBody, signature, secret)',
      async: false,
      call: () => constructHopEvent(rawBody, signature, SECRET),
    },
    {
      name: 'onehopConstructEvent',
      label: 'await constructEvent(body, signature, secret) (@onehop/js)',
      async: true,
      call: () => constructEvent(delivery.body, signature, SECRET),
    },
    {
      name: 'bareHmac',
      label: 'createHmac + timingSafeEqual + JSON.parse (floor)',
      async: false,
      call: () => {
        const expected = Buffer.from(signature, 'hex');
        const actual = createHmac('sha256', SECRET).update(rawBody).digest();
        if (expected.length !== actual.length || !timingSafeEqual(actual, expected)) {
          throw new Error('signature mismatch');
        }
        return JSON.parse(rawBody.toString('utf8')) as unknown;
      },
    },
  ];

  for (const benchCase of cases) await checkVerifies(benchCase);
  const iterations = new Map<VerifyCaseName, number>();
  for (const benchCase of cases) {
    // Warm up (and let the JIT settle), then size a batch to take about BATCH_MS.
    const nsPerOp = await timeFor(benchCase, WARMUP_MS);
    iterations.set(benchCase.name, Math.max(1, Math.round((BATCH_MS * 1e6) / nsPerOp)));
  }
  const samples = new Map<VerifyCaseName, number[]>(cases.map((c) => [c.name, []]));
  for (let batch = 0; batch < batches; batch += 1) {
    // Interleaved, so that a noisy moment on the machine hits every case alike.
    for (const benchCase of cases) {
      const count = iterations.get(benchCase.name) ?? 1;
      samples.get(benchCase.name)?.push(await timeBatch(benchCase, count));
    }
  }
  const figures = (benchCase: VerifyCase): VerifyCaseFigures => {
    const batchNsPerOp = samples.get(benchCase.name) ?? [];
    const nsPerOp = median(batchNsPerOp);
    return { label: benchCase.label, nsPerOp, opsPerSecond: 1e9 / nsPerOp, batchNsPerOp };
  };
  return {
    bodyBytes: rawBody.length,
    batches,
    cases: {
      constructHopEvent: figures(cases[0]),
      onehopConstructEvent: figures(cases[1]),
      bareHmac: figures(cases[2]),
    },
  };
}

/** Every case must accept the delivery and return the event, or the timing means nothing. */
async function checkVerifies(benchCase: VerifyCase): Promise<void> {
  const event = (await benchCase.call()) as { event?: unknown } | undefined;
  if (event?.event !== 'ignite.deployment.build.updated') {
    throw new Error(`${benchCase.label} did not return the event`);
  }
}

/** Nanoseconds per call over one batch of `count` calls. */
async function timeBatch(benchCase: VerifyCase, count: number): Promise<number> {
  const { call } = benchCase;
  const start = process.hrtime.bigint();
  if (benchCase.async) {
    for (let i = 0; i < count; i += 1) sink = await call();
  } else {
    for (let i = 0; i < count; i += 1) sink = call();
  }
  return Number(process.hrtime.bigint() - start) / count;
}

/** Calls repeatedly for about `ms` milliseconds; returns the nanoseconds per call. */
async function timeFor(benchCase: VerifyCase, ms: number): Promise<number> {
  let count = 16;
  let total = 0;
  let calls = 0;
  while (total < ms * 1e6) {
    total += (await timeBatch(benchCase, count)) * count;
    calls += count;
    count *= 2;
  }
  return total / calls;
}

const { verifyBatches } = loadConfig();
await reportMeasurement(async () => {
  const result = await runVerifyBenchmark(verifyBatches);
  // Reading `sink` keeps the calls' results observable, so the JIT cannot drop the calls.
  if (typeof sink === 'symbol') console.log('(never printed)');
  return result;
}, formatVerifyTable);
