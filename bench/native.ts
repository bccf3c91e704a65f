// Where each server's CPU time goes, natively: the module and its bare Nest route loaded at the
// same time (as `cpu-pairs.ts` loads them), each sampled by Linux `perf` on a CPU clock over the
// same seconds, and the samples per delivery summed by kind of code (the JavaScript V8 compiled,
// V8's builtins by what they do, its garbage collector, malloc, the kernel...). Where callgrind
// (`instructions.ts`) counts instructions, this tells the time they take; where `profile.ts`
// (V8's profiler) sees JavaScript functions, this also sees inside V8, libc and the kernel.
//
//   npm run bench:native
//   BENCH_NATIVE_SECONDS=60 BENCH_PAIR_RATE=4000 npm run bench:native
//
// Each server runs with `node --perf-basic-prof`, so that perf can name the code V8 compiled;
// `perf record -p` attaches to it after the warm-up, for the measured seconds. perf must be
// installed (`apt-get install linux-perf`), and allowed to sample the kernel too: as root, or
// with kernel.perf_event_paranoid at most 1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CPU_PAIRS } from './cpu-pairs.js';
import { integer, loadConfig, type TargetName } from './config.js';
import { benchDeliveries, type BenchDelivery } from './fixture.js';
import { loadAnswers, problemsOf } from './http-benchmark.js';
import { loadServer } from './load.js';
import { runOrchestrator, ServerProcess } from './processes.js';
import { formatFixed, formatTable } from './table.js';

const run = promisify(execFile);

const SAMPLES_PER_SECOND = 2999;
const CONNECTIONS = 10;

/** Kinds of code, tried in order on each sampled symbol; the first that matches counts it. */
const KINDS: ReadonlyArray<
  readonly [kind: string, matches: (dso: string, symbol: string) => boolean]
> = [
  ['JavaScript (compiled by V8)', (dso) => dso.startsWith('[JIT]')],
  ['kernel', (dso) => dso === '[kernel.kallsyms]'],
  [
    'libc malloc and free',
    (dso, s) => dso.startsWith('libc') && /malloc|free|chunk|consolidate/.test(s),
  ],
  ['libc, other', (dso) => dso.startsWith('libc')],
  [
    'V8 Map and Set builtins',
    (_, s) => /OrderedHash|^Builtins_(Weak)?(Map|Set)(Prototype|Constructor|Iterator)/.test(s),
  ],
  [
    'V8 async functions and promises',
    (_, s) => /ResumeGenerator|AsyncFunction|Microtask|Promise|Await/.test(s),
  ],
  [
    'V8 garbage collector and allocation',
    (_, s) => /Scaveng|Heap|Sweep|RecordWrite|Mark|Evacuat|Allocat|RememberedSet|SlotSet/.test(s),
  ],
  // Ignition's bytecode handlers (`Builtins_LdaNamedPropertyHandler`...): code not yet compiled.
  ['V8 interpreter', (_, s) => /^Builtins_\w+Handler$/.test(s)],
  ['V8 calls and constructors', (_, s) => /^Builtins_.*(Call|Construct|Apply)/.test(s)],
  ['V8 property access (ICs)', (_, s) => /^Builtins_.*(IC|Load|Store)/.test(s)],
  ['V8 other builtins', (_, s) => s.startsWith('Builtins_')],
  ['V8 runtime (C++)', (_, s) => s.includes('v8::') || s.startsWith('Runtime_')],
  ['OpenSSL (HMAC)', (_, s) => /sha256|HMAC|EVP_|OPENSSL|CRYPTO_/.test(s)],
  ['Node, libuv, llhttp (C++)', () => true],
];

/** Samples by kind of code in one `perf report`; throws if lines of it were not understood. */
function samplesByKind(report: string): Map<string, number> {
  const byKind = new Map<string, number>(KINDS.map(([kind]) => [kind, 0]));
  // "  0.77%   115  [JIT] tid 13010  [.] JS:*tryActivate ..." or "... node  [.] Builtins_..."
  const line = /^\s*([\d.]+)%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[.\]\s+(.*)$/;
  let share = 0;
  for (const text of report.split('\n')) {
    const match = line.exec(text);
    if (!match) continue;
    const [, percent, samples, dso, symbol] = match as unknown as string[] as [
      string,
      string,
      string,
      string,
      string,
    ];
    const [kind] = KINDS.find(([, matches]) => matches(dso, symbol.trim()))!;
    byKind.set(kind, byKind.get(kind)! + Number(samples));
    share += Number(percent);
  }
  // Each line's share is rounded to 0.01 %: thousands of them still add up to about 100.
  if (share < 99) throw new Error(`perf report: only ${share.toFixed(1)} % of the samples read`);
  return byKind;
}

/** Samples one server for `seconds` into `file`; `recorders` holds perf while it runs. */
async function record(
  server: ServerProcess,
  seconds: number,
  file: string,
  recorders: Set<ChildProcess>,
): Promise<void> {
  const perf = spawn(
    'perf',
    ['record', '--quiet', '-e', 'cpu-clock', '-F', String(SAMPLES_PER_SECOND)].concat([
      '-p',
      String(server.pid),
      '-o',
      file,
      '--',
      'sleep',
      String(seconds),
    ]),
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  recorders.add(perf);
  perf.once('exit', () => recorders.delete(perf));
  await new Promise<void>((resolve, reject) => {
    perf.once('error', reject);
    perf.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`perf record exited with ${code}`)),
    );
  });
}

interface NativeResult {
  readonly module: TargetName;
  readonly baseline: TargetName;
  /** CPU microseconds per delivery by kind of code, from the samples, for each server. */
  readonly moduleUs: Map<string, number>;
  readonly baselineUs: Map<string, number>;
}

async function measurePair(
  [module, baseline]: readonly [TargetName, TargetName],
  pool: readonly BenchDelivery[],
  rate: number,
  seconds: number,
  directory: string,
): Promise<NativeResult> {
  // With --perf-basic-prof, V8 also writes a log of its own: into the run's directory.
  const execArgv = (target: TargetName) => [
    '--perf-basic-prof',
    '--no-logfile-per-isolate',
    `--logfile=${join(directory, `${target}.v8.log`)}`,
  ];
  const servers: ServerProcess[] = [];
  const recorders = new Set<ChildProcess>();
  try {
    for (const target of [module, baseline]) {
      servers.push(await ServerProcess.start(target, execArgv(target)));
    }
    const load = (duration: number) =>
      Promise.all(
        servers.map((server) =>
          loadServer(server.url, pool, {
            connections: CONNECTIONS,
            warmupSeconds: 0,
            durationSeconds: duration,
            rate,
          }),
        ),
      );
    await load(Math.max(10, seconds / 2));
    const before = await Promise.all(servers.map((server) => server.stats()));
    const files = servers.map((server) => join(directory, `${server.target}.perf.data`));
    // perf starts a second after the load and stops a second before it, so that every
    // sampled second is a loaded one; the load's steady rate gives the deliveries it covered.
    const [results] = await Promise.all([
      load(seconds + 2),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await Promise.all(
          servers.map((server, index) => record(server, seconds, files[index]!, recorders)),
        );
      })(),
    ]);
    const after = await Promise.all(servers.map((server) => server.stats()));
    const perUs = await Promise.all(
      servers.map(async (server, index) => {
        const handled = after[index]!.handled - before[index]!.handled;
        const problems = problemsOf(loadAnswers(results[index]!, handled));
        if (problems.length > 0) throw new Error(`${server.target}: ${problems.join('; ')}`);
        const { stdout } = await run(
          'perf',
          ['report', '--stdio', '-n', '--sort', 'dso,sym', '-i', files[index]!],
          { maxBuffer: 256 * 1024 * 1024 },
        );
        const sampledDeliveries = (handled / (seconds + 2)) * seconds;
        const usPerSample = 1e6 / SAMPLES_PER_SECOND;
        return new Map(
          [...samplesByKind(stdout)].map(([kind, samples]) => [
            kind,
            (samples * usPerSample) / sampledDeliveries,
          ]),
        );
      }),
    );
    return { module, baseline, moduleUs: perUs[0]!, baselineUs: perUs[1]! };
  } finally {
    for (const perf of recorders) perf.kill('SIGINT');
    await Promise.all(servers.map((server) => server.stop()));
    // node --perf-basic-prof leaves a map of its compiled code in /tmp for perf to read.
    for (const server of servers) rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
  }
}

function formatResult(result: NativeResult): string {
  const total = (us: Map<string, number>) => [...us.values()].reduce((sum, v) => sum + v, 0);
  const moduleTotal = total(result.moduleUs);
  const baselineTotal = total(result.baselineUs);
  const rows = KINDS.map(([kind]) => {
    const moduleUs = result.moduleUs.get(kind)!;
    const baselineUs = result.baselineUs.get(kind)!;
    return { kind, moduleUs, baselineUs, difference: moduleUs - baselineUs };
  }).sort((a, b) => b.difference - a.difference);
  const signed = (us: number) => `${us >= 0 ? '+' : ''}${formatFixed(us, 2)}`;
  return formatTable(
    ['kind of code', `${result.module} µs`, `${result.baseline} µs`, 'difference µs'],
    [
      ...rows.map((row) => [
        row.kind,
        formatFixed(row.moduleUs, 2),
        formatFixed(row.baselineUs, 2),
        signed(row.difference),
      ]),
      [
        `all (ratio ${formatFixed(moduleTotal / baselineTotal, 3)})`,
        formatFixed(moduleTotal, 2),
        formatFixed(baselineTotal, 2),
        signed(moduleTotal - baselineTotal),
      ],
    ],
  );
}

async function main(): Promise<number> {
  const { pairRate } = loadConfig();
  const seconds = integer(process.env, 'BENCH_NATIVE_SECONDS', 40);
  await run('perf', ['--version']).catch(() => {
    throw new Error('perf is not installed: apt-get install linux-perf');
  });
  // Above 1, perf samples another user's process without the kernel: that row would read 0.
  const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
  if (paranoid > 1 && process.getuid?.() !== 0) {
    throw new Error(
      `kernel.perf_event_paranoid is ${paranoid}: run as root, or set it to 1 (sysctl kernel.perf_event_paranoid=1)`,
    );
  }
  const pool = benchDeliveries();
  const directory = mkdtempSync(join(tmpdir(), 'hop-native-'));
  try {
    for (const pair of CPU_PAIRS) {
      const result = await measurePair(pair, pool, pairRate, seconds, directory);
      console.log(
        `\nCPU µs per delivery by kind of code (perf, ${SAMPLES_PER_SECOND} samples/s over ` +
          `${seconds} s, both at ${pairRate} deliveries/s at once)\n`,
      );
      console.log(formatResult(result));
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return 0;
}

runOrchestrator(main);
