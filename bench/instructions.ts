// Instructions each server executes per delivery, counted by valgrind's callgrind: the module
// against its bare Nest route, on each adapter. Unlike CPU time, the count repeats to a fraction
// of a percent whatever else this shared machine is doing, so a change of 1 % shows. It is not
// CPU time: it leaves out how fast the instructions run (cache misses, mispredicted branches)
// and time in the kernel, so read it beside `npm run bench`'s CPU per delivery, not instead.
//
//   npm run bench:instructions
//   BENCH_INSTRUCTION_RUNS=1 BENCH_INSTRUCTION_DELIVERIES=2000 npm run bench:instructions
//
// Each server runs under `valgrind --tool=callgrind` with counting off. After a warm-up on the
// same connections (for the JIT to settle: after too short a one, V8 is still compiling and the
// count is half as high again), counting is switched on for the measured deliveries
// (`callgrind_control`), over every thread of the process (the garbage collector's included).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CPU_PAIRS } from './cpu-pairs.js';
import { integer, type TargetName } from './config.js';
import { benchDeliveries, WEBHOOK_PATH, type BenchDelivery } from './fixture.js';
import { problemsOf, type LoadAnswers } from './http-benchmark.js';
import { runOrchestrator, ServerProcess } from './processes.js';
import { median } from './stats.js';
import { formatCount, formatFixed, formatTable } from './table.js';

const run = promisify(execFile);

// Few connections: under valgrind a server answers a few hundred deliveries a second.
const CONNECTIONS = 4;

/**
 * Posts `count` deliveries of `pool` (from `first` on) over the `agent`'s keep-alive
 * connections, each sending its next delivery once the last is answered, and counts the answers.
 * The warm-up and the count share the connections: under valgrind, new connections for the
 * count (as a second autocannon run opens) had V8 deoptimize and recompile Node's HTTP code
 * during it, which added more than half again to the count.
 */
async function post(
  agent: Agent,
  url: string,
  pool: readonly BenchDelivery[],
  first: number,
  count: number,
): Promise<Omit<LoadAnswers, 'handled'>> {
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let next = first;
  const postOne = (delivery: BenchDelivery) =>
    new Promise<void>((resolve) => {
      const sent = request(`${url}${WEBHOOK_PATH}`, {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'content-length': delivery.bodyBytes.length },
      });
      sent.on('response', (answer) => {
        const code = String(answer.statusCode);
        statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        answer.resume();
        answer.on('end', resolve);
      });
      sent.on('error', () => {
        errors += 1;
        resolve();
      });
      sent.end(delivery.bodyBytes);
    });
  const connection = async () => {
    while (next < first + count) await postOne(pool[next++ % pool.length]!);
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  const answered = Object.entries(statusCodes);
  const responses2xx = answered.filter(([code]) => code.startsWith('2'));
  const count2xx = responses2xx.reduce((sum, [, n]) => sum + n, 0);
  return {
    responses2xx: count2xx,
    non2xx: answered.reduce((sum, [, n]) => sum + n, 0) - count2xx,
    statusCodes,
    errors,
    timeouts: 0,
  };
}

interface InstructionsConfig {
  /** `BENCH_INSTRUCTION_RUNS`: servers started and measured afresh, per server; the median counts. */
  readonly runs: number;
  /** `BENCH_INSTRUCTION_WARMUP`: deliveries before counting starts, for the JIT to settle. */
  readonly warmup: number;
  /** `BENCH_INSTRUCTION_DELIVERIES`: deliveries counted per run. */
  readonly deliveries: number;
}

/** Instructions per delivery of one run of one server. */
async function countOnce(
  target: TargetName,
  pool: readonly BenchDelivery[],
  config: InstructionsConfig,
  directory: string,
): Promise<number> {
  const output = join(directory, `${target}.callgrind`);
  const server = await ServerProcess.start(target, [], {
    command: 'valgrind',
    args: [
      '--tool=callgrind',
      '--quiet',
      '--instr-atstart=no',
      // V8 writes the code it runs: valgrind must notice code that changes.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${output}`,
    ],
  });
  const control = (...args: string[]) => run('callgrind_control', [...args, String(server.pid)]);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    let sent = 0;
    const load = async (deliveries: number) => {
      const before = await server.stats();
      const answers = await post(agent, server.url, pool, sent, deliveries);
      sent += deliveries;
      const handled = (await server.stats()).handled - before.handled;
      const problems = problemsOf({ ...answers, handled });
      if (problems.length > 0) throw new Error(`${target}: ${problems.join('; ')}`);
      return handled;
    };
    await load(config.warmup);
    await control('--zero');
    await control('--instr=on');
    const handled = await load(config.deliveries);
    await control('--instr=off');
    await control('--dump');
    // The dump is written next to the file named, with its number appended.
    const totals = /^totals: (\d+)$/m.exec(readFileSync(`${output}.1`, 'utf8'));
    if (!totals) throw new Error(`${target}: no totals in callgrind's dump`);
    return Number(totals[1]) / handled;
  } finally {
    agent.destroy();
    await server.stop();
  }
}

async function main(): Promise<number> {
  const config: InstructionsConfig = {
    runs: integer(process.env, 'BENCH_INSTRUCTION_RUNS', 3),
    warmup: integer(process.env, 'BENCH_INSTRUCTION_WARMUP', 10_000),
    deliveries: integer(process.env, 'BENCH_INSTRUCTION_DELIVERIES', 5_000),
  };
  await run('valgrind', ['--version']).catch(() => {
    throw new Error('valgrind is not installed: apt-get install valgrind');
  });
  const pool = benchDeliveries();
  const directory = mkdtempSync(join(tmpdir(), 'hop-instructions-'));
  const rows: string[][] = [];
  try {
    for (const [module, baseline] of CPU_PAIRS) {
      const perDelivery = new Map<TargetName, number>();
      for (const target of [module, baseline]) {
        const counts: number[] = [];
        for (let index = 0; index < config.runs; index += 1) {
          counts.push(await countOnce(target, pool, config, directory));
          console.log(`  ${target} run ${index + 1}: ${formatCount(counts.at(-1)!)} instructions`);
        }
        perDelivery.set(target, median(counts));
      }
      const moduleCount = perDelivery.get(module)!;
      const baselineCount = perDelivery.get(baseline)!;
      rows.push([
        `${module} / ${baseline}`,
        String(config.runs),
        formatCount(moduleCount),
        formatCount(baselineCount),
        `${formatFixed(moduleCount / baselineCount, 3)}×`,
      ]);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  console.log(
    `\nInstructions per delivery (callgrind; median of ${config.runs} runs of ` +
      `${config.deliveries} deliveries after ${config.warmup} for warm-up, ${CONNECTIONS} connections)\n`,
  );
  console.log(formatTable(['module / baseline', 'runs', 'module', 'baseline', 'ratio'], rows));
  return 0;
}

runOrchestrator(main);
