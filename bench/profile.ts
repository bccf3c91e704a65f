// Where a server's time goes under load: runs it with `node --cpu-prof` while autocannon posts
// the benchmark's delivery, then summarises the profile per request (CPU microseconds by
// package, by stage of the request's path, the hottest functions, and the library's own).
//
//   node bench/dist/profile.js module-express nest-express-bare   (after npm run bench)
//   node bench/dist/profile.js --seconds 20 module-fastify
//   node bench/dist/profile.js --analyze some.cpuprofile           (any profile, e.g. bootstrap)
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, type TargetName } from './config.js';
import { benchDeliveries, type BenchDelivery } from './fixture.js';
import { loadServer } from './load.js';
import { ServerProcess } from './processes.js';
import { formatFixed, formatTable } from './table.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARY_DIST = join(REPO_ROOT, 'dist');
const PROFILE_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));
const IDLE = new Set(['(idle)', '(root)']);

/**
 * Stages of a delivery's path: a sample counts for a stage when any frame of its stack
 * matches, so a stage includes what it calls and stages nest (HMAC is inside the guard).
 * Stacks are synchronous: code that runs after an `await` is counted under the microtask
 * that resumes it, not under its caller.
 */
const STAGES: ReadonlyArray<readonly [string, (frame: CallFrame) => boolean]> = [
  ['Nest route handler, synchronous part', (f) => f.url.endsWith('/router/router-proxy.js')],
  ['guard: HopSignatureGuard.canActivate', (f) => ours(f, 'signature.guard.js', 'canActivate')],
  [
    'controller: HopWebhooksController.receive',
    (f) => ours(f, 'webhooks.controller.js', 'receive'),
  ],
  ['parseHopEvent', (f) => ours(f, 'event.parser.js', 'parseHopEvent')],
  [
    'idempotency: HopDeliveryProcessor and its store',
    (f) => isOurFile(f, 'delivery.processor.js') || isOurFile(f, 'memory-event.store.js'),
  ],
  ['dispatch: HopEventsDispatcher.dispatch', (f) => ours(f, 'events.dispatcher.js', 'dispatch')],
  ['EventEmitter2 (emitAsync and listeners)', (f) => f.url.includes('/eventemitter2/')],
  ["the app's @OnHopEvent handler", (f) => f.url.endsWith('/apps/build-updates.counter.js')],
  [
    'bare controller: BareWebhookController.receive',
    (f) => f.url.endsWith('/apps/bare-webhook.controller.js'),
  ],
  ['raw body capture (Express: rawBodyParser)', (f) => isRawBodyCapture(f)],
  ['body parsing (body-parser / fastify content parser)', (f) => isBodyParsing(f)],
  [
    'HMAC (node:crypto Hmac, anywhere)',
    (f) => f.url === 'node:internal/crypto/hash' && /Hmac|digest|update/.test(f.functionName),
  ],
  ['Nest Logger', (f) => f.url.includes('/@nestjs/common/services/logger.service')],
  [
    'socket writes (write syscalls, loopback included)',
    (f) => f.functionName === 'writeLatin1String',
  ],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
];

function isOurFile(frame: CallFrame, file: string): boolean {
  return frame.url.endsWith(`/dist/esm/${file}`) && !frame.url.includes('/bench/');
}

function ours(frame: CallFrame, file: string, name: string): boolean {
  return isOurFile(frame, file) && frame.functionName === name;
}

function isRawBodyCapture(frame: CallFrame): boolean {
  return (
    frame.url.endsWith('/adapters/utils/get-body-parser-options.util.js') &&
    frame.functionName === 'rawBodyParser'
  );
}

function isBodyParsing(frame: CallFrame): boolean {
  return (
    /\/node_modules\/(body-parser|raw-body)\//.test(frame.url) ||
    frame.url.endsWith('/node_modules/fastify/lib/content-type-parser.js')
  );
}

/** Which package (or part of Node) a frame belongs to. */
function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'V8 builtins / native';
  if (url.startsWith('node:')) {
    const [first, second] = url.slice('node:'.length).split('/');
    return `node:${first === 'internal' ? second : first}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(LIBRARY_DIST)) return 'nestjs-hop-webhooks (lib)';
  return relative(REPO_ROOT, path).startsWith('bench') ? 'bench app' : path;
}

function frameLabel(frame: CallFrame): string {
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const file = path.includes('/node_modules/')
    ? path.slice(path.lastIndexOf('/node_modules/') + '/node_modules/'.length)
    : path.startsWith(REPO_ROOT)
      ? relative(REPO_ROOT, path)
      : path;
  const name = frame.functionName || '(anonymous)';
  return file ? `${name}  ${file}:${frame.lineNumber + 1}` : name;
}

interface Summary {
  readonly busyUs: number;
  readonly categories: Map<string, number>;
  readonly stages: Map<string, number>;
  readonly selfByFunction: Map<string, number>;
  readonly totalByFunction: Map<string, number>;
  readonly librarySelf: Map<string, number>;
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

/** Self time per node (µs), then rolled up by package, stage and function. */
export function summarise(profile: CpuProfile): Summary {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    // A sample lasts until the next one.
    const duration = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + duration);
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const summary: Summary = {
    busyUs: 0,
    categories: new Map(),
    stages: new Map(),
    selfByFunction: new Map(),
    totalByFunction: new Map(),
    librarySelf: new Map(),
  };
  let busyUs = 0;
  const visit = (id: number, stages: ReadonlySet<string>, onStack: ReadonlySet<string>): void => {
    const node = byId.get(id);
    if (!node) return;
    const frame = node.callFrame;
    const label = frameLabel(frame);
    const nodeStages = new Set(stages);
    for (const [stage, matches] of STAGES) if (matches(frame)) nodeStages.add(stage);
    const stack = new Set(onStack).add(label);
    const self = selfUs.get(id) ?? 0;
    if (self > 0 && !IDLE.has(frame.functionName)) {
      busyUs += self;
      add(summary.categories, categoryOf(frame), self);
      add(summary.selfByFunction, label, self);
      if (categoryOf(frame) === 'nestjs-hop-webhooks (lib)') add(summary.librarySelf, label, self);
      for (const stage of nodeStages) add(summary.stages, stage, self);
      for (const fn of stack) add(summary.totalByFunction, fn, self);
    }
    for (const child of node.children ?? []) visit(child, nodeStages, stack);
  };
  for (const node of profile.nodes)
    if (!childIds.has(node.id)) visit(node.id, new Set(), new Set());
  return { ...summary, busyUs };
}

function top(map: Map<string, number>, count: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** Prints the summary; with `requests`, every figure is given per request. */
export function printSummary(summary: Summary, requests?: number): void {
  // Per request when the request count is known, else in milliseconds of the whole profile.
  const perRequest = (us: number): string =>
    requests ? formatFixed(us / requests, 2) : formatFixed(us / 1000, 1);
  const share = (us: number): string => `${formatFixed((100 * us) / summary.busyUs, 1)}%`;
  const unit = requests ? 'µs/request' : 'ms';
  console.log(
    `busy CPU ${formatFixed(summary.busyUs / 1e6, 2)} s` +
      (requests ? ` for ${requests} requests: ${perRequest(summary.busyUs)} µs per request` : ''),
  );
  console.log(
    `\n${formatTable(
      ['by package (self time)', unit, 'share'],
      top(summary.categories, 14).map(([k, v]) => [k, perRequest(v), share(v)]),
    )}`,
  );
  const stages = STAGES.map(([stage]) => stage).filter((stage) => summary.stages.has(stage));
  console.log(
    `\n${formatTable(
      ['by stage (inclusive: the stage and what it calls)', unit, 'share'],
      stages.map((stage) => {
        const us = summary.stages.get(stage) ?? 0;
        return [stage, perRequest(us), share(us)];
      }),
    )}`,
  );
  console.log(
    `\n${formatTable(
      ['hottest functions (self time)', unit, 'share'],
      top(summary.selfByFunction, 20).map(([k, v]) => [k, perRequest(v), share(v)]),
    )}`,
  );
  const library = top(summary.librarySelf, 12);
  if (library.length > 0) {
    console.log(
      `\n${formatTable(
        ['nestjs-hop-webhooks functions', `self ${unit}`, `total ${unit}`, 'self share'],
        library.map(([k, v]) => [
          k,
          perRequest(v),
          perRequest(summary.totalByFunction.get(k) ?? 0),
          share(v),
        ]),
      )}`,
    );
  }
}

async function profileTarget(
  target: TargetName,
  seconds: number,
  pool: readonly BenchDelivery[],
): Promise<void> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const name = `${target}.cpuprofile`;
  rmSync(join(PROFILE_DIR, name), { force: true });
  const server = await ServerProcess.start(target, [
    '--cpu-prof',
    `--cpu-prof-dir=${PROFILE_DIR}`,
    `--cpu-prof-name=${name}`,
  ]);
  let handled = 0;
  try {
    const result = await loadServer(server.url, pool, {
      connections: 50,
      warmupSeconds: 2,
      durationSeconds: seconds,
    });
    handled = (await server.stats()).handled;
    console.log(
      `\n==== ${target}: ${Math.round(result.requests.mean)} req/s under the profiler, ` +
        `${result.non2xx} non-2xx, profile in ${relative(REPO_ROOT, join(PROFILE_DIR, name))}\n`,
    );
  } finally {
    await server.stop();
  }
  const profile = JSON.parse(readFileSync(join(PROFILE_DIR, name), 'utf8')) as CpuProfile;
  printSummary(summarise(profile), handled);
}

async function main(args: readonly string[]): Promise<void> {
  if (args[0] === '--analyze') {
    for (const file of args.slice(1)) {
      console.log(`\n==== ${file}\n`);
      printSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile));
    }
    return;
  }
  let seconds = 10;
  const targets: TargetName[] = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--seconds') seconds = Number(args[(i += 1)]);
    else if ((TARGETS as readonly string[]).includes(args[i])) targets.push(args[i] as TargetName);
    else throw new Error(`unknown argument ${args[i]}; servers: ${TARGETS.join(', ')}`);
  }
  if (targets.length === 0) targets.push('module-express', 'nest-express-bare');
  const pool = benchDeliveries();
  for (const target of targets) await profileTarget(target, seconds, pool);
  const left = readdirSync(PROFILE_DIR).filter((file) => file.endsWith('.cpuprofile'));
  console.log(
    `\nProfiles (open in Chrome DevTools > Performance): ${left.join(', ')} in ${relative(REPO_ROOT, PROFILE_DIR)}`,
  );
}

await main(process.argv.slice(2));
