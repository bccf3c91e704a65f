#!/usr/bin/env node
// Installs the packed library into apps made by `nest new` and runs each app's own build and
// tests: proof that a user can install, compile and test against the published package.
//
//   npm run build && npm run test:consumers [-- [app-name ...] [--keep]]
//
// Each app is copied to a temporary folder next to the packed tarball (its package.json depends
// on `file:../nestjs-hop-webhooks.tgz`), installed with a plain `npm install`, then built and
// tested with its own scripts; the repository is left untouched. Apps run one after another.
//
// Nest 12's CommonJS template tests with Jest, which loads the ESM-only @nestjs packages through
// require(esm): that works from Node 24.9 on. On an older Node, those test steps run on the Node
// in CONSUMERS_NEWER_NODE=/path/to/node, or else on Node 24 from the npm registry's
// node-<platform>-<arch> package, fetched once into the system's temporary folder.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const TARBALL = 'nestjs-hop-webhooks.tgz';
const SECRET = 'whsec_consumer_smoke_secret';

const APPS = [
  {
    name: 'nest11-cjs-jest',
    about: 'Nest 11 `ts` template, CommonJS, Jest + ts-jest, Fastify',
    // A CommonJS app must not need require(esm): the app and its tests run without it.
    env: { NODE_OPTIONS: '--no-experimental-require-module' },
  },
  {
    name: 'nest12-cjs-jest-esm',
    about: 'Nest 12 CJS template, CommonJS, Jest --experimental-vm-modules + ts-jest, Express',
    testsNeedNode: '24.9.0',
  },
  { name: 'nest12-esm-vitest', about: 'Nest 12 `ts-esm` template, ES modules, Vitest, Express' },
];

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const only = args.filter((arg) => !arg.startsWith('--'));
const unknown = only.filter((name) => !APPS.some((app) => app.name === name));
if (unknown.length > 0) {
  console.error(
    `Unknown app(s): ${unknown.join(', ')}. Apps: ${APPS.map((a) => a.name).join(', ')}`,
  );
  process.exit(2);
}
const apps = only.length > 0 ? APPS.filter((app) => only.includes(app.name)) : APPS;

for (const entry of ['dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json']) {
  if (!existsSync(join(root, entry))) {
    console.error(`${entry} is missing: run \`npm run build\` before \`npm run test:consumers\`.`);
    process.exit(2);
  }
}

// A clean environment for the apps: nothing of the `npm run` that started this script.
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.startsWith('npm_') && key !== 'INIT_CWD' && key !== 'HOP_WEBHOOK_SECRET',
  ),
);
baseEnv.npm_config_update_notifier = 'false';

const NEWER_NODE = '24.21.0';
const newerNode =
  process.env.CONSUMERS_NEWER_NODE ??
  (apps.some((app) => app.testsNeedNode && !atLeast(process.versions.node, app.testsNeedNode))
    ? fetchNode(NEWER_NODE)
    : undefined);
const newerNodeVersion = newerNode ? nodeVersionOf(newerNode) : undefined;

const work = mkdtempSync(join(tmpdir(), 'hop-consumers-'));
const started = Date.now();
console.log(`Consumer apps in ${work}`);

const packedResult = await run(
  'npm',
  ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
  { cwd: root, env: baseEnv },
);
if (packedResult.code !== 0) {
  console.error(`npm pack failed:\n${tail(packedResult.output)}`);
  process.exit(1);
}
const [{ filename, size, entryCount }] = JSON.parse(packedResult.stdout);
renameSync(join(work, filename), join(work, TARBALL));
console.log(`Packed ${filename}: ${entryCount} files, ${(size / 1024).toFixed(0)} kB\n`);

const counts = { passed: 0, failed: 0, skipped: 0 };
const summary = [];

for (const app of apps) {
  const dir = join(work, app.name);
  cpSync(join(here, app.name), dir, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|dist|coverage|package-lock\.json)$/.test(source),
  });
  console.log(`${app.name}  (${app.about})`);
  const appStarted = Date.now();
  let failed = false;
  let stoppedBy;
  let skipped = 0;

  const npm = (npmArgs, env = baseEnv) => run('npm', npmArgs, { cwd: dir, env, timeout: 300_000 });
  const testEnv = testEnvironment(app);
  const steps = [
    {
      name: 'install',
      needed: true,
      exec: () => run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, env: baseEnv }),
    },
    { name: 'build', needed: true, exec: () => npm(['run', 'build']) },
    // The template's own scripts type-check src/ only (ts-jest and Vitest do not): the tests too.
    { name: 'tsc', exec: () => npm(['exec', '--', 'tsc', '--noEmit', '-p', 'tsconfig.json']) },
    { name: 'start:prod', exec: () => smoke(dir, app.env) },
    { name: 'test', exec: () => npm(['test'], testEnv.env), skip: testEnv.skip },
    { name: 'test:e2e', exec: () => npm(['run', 'test:e2e'], testEnv.env), skip: testEnv.skip },
  ];
  for (const step of steps) {
    // The later steps need the install and the build; the others are independent.
    if (stoppedBy) {
      console.log(`  - ${step.name.padEnd(11)} not run: ${stoppedBy} failed`);
      continue;
    }
    if (step.skip) {
      console.log(`  - ${step.name.padEnd(11)} skipped: ${step.skip}`);
      counts.skipped++;
      skipped++;
      continue;
    }
    const stepStarted = Date.now();
    const result = await step.exec();
    const took = seconds(Date.now() - stepStarted);
    if (result.code === 0) {
      console.log(`  ✓ ${step.name.padEnd(11)} ${took}`);
      counts.passed++;
    } else {
      failed = true;
      if (step.needed) stoppedBy = step.name;
      counts.failed++;
      console.log(
        `  ✗ ${step.name.padEnd(11)} ${took}  (${result.reason ?? `exit ${result.code}`})`,
      );
      console.log(indent(tail(result.output)));
    }
  }
  const verdict = failed ? 'FAIL' : skipped > 0 ? 'PASS (some steps skipped)' : 'PASS';
  const took = seconds(Date.now() - appStarted);
  console.log(`${failed ? 'FAIL' : 'PASS'} ${app.name} in ${took}\n`);
  summary.push(`${verdict.padEnd(26)} ${app.name.padEnd(22)} ${took}`);
}

console.log(summary.join('\n'));
console.log(
  `Total ${seconds(Date.now() - started)} (counting steps: install, build, tsc, start:prod, test, test:e2e per app)`,
);
if (counts.failed > 0 || keep) {
  console.log(`Kept ${work}`);
} else {
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
);
process.exitCode = counts.failed > 0 ? 1 : 0;

/** Which Node runs the app's test steps, or why they are skipped. */
function testEnvironment(app) {
  if (!app.testsNeedNode || atLeast(process.versions.node, app.testsNeedNode))
    return { env: { ...baseEnv, ...app.env } };
  if (newerNodeVersion && atLeast(newerNodeVersion, app.testsNeedNode)) {
    const path = `${dirname(newerNode)}${process.platform === 'win32' ? ';' : ':'}${baseEnv.PATH}`;
    return { env: { ...baseEnv, PATH: path } };
  }
  return {
    skip:
      `needs Node >= ${app.testsNeedNode} (this is ${process.versions.node}): Jest loads Nest 12's ` +
      'ESM-only packages with require(esm) only there; set CONSUMERS_NEWER_NODE=/path/to/node',
  };
}

/**
 * Starts the built app as `npm run start:prod` would (`node dist/main`, so main.ts's
 * `rawBody: true` is what verifies), posts it a signed event with the installed package's
 * testing helpers and expects a 204 and the handler's log line.
 */
async function smoke(dir, appEnv) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main'], {
    cwd: dir,
    env: { ...baseEnv, ...appEnv, PORT: String(port), HOP_WEBHOOK_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited;
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve((exited = code ?? 1))));
  try {
    const { buildHopEvent, postHopEvent } = createRequire(join(dir, 'package.json'))(
      'nestjs-hop-webhooks/testing',
    );
    const url = `http://127.0.0.1:${port}/hop/webhook`;
    const event = buildHopEvent('ignite.deployment.build.updated');
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited !== undefined) return { code: 1, reason: `the app exited with ${exited}`, output };
      try {
        const response = await postHopEvent(url, event, SECRET);
        if (response.status !== 204) {
          return {
            code: 1,
            reason: `answered ${response.status}`,
            output: `${output}\n${await response.text()}`,
          };
        }
        break;
      } catch (error) {
        if (Date.now() > deadline)
          return { code: 1, reason: `no answer: ${error.cause?.code ?? error}`, output };
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!output.includes(event.id)) {
      return { code: 1, reason: `204, but the handler did not log ${event.id}`, output };
    }
    return { code: 0, output };
  } catch (error) {
    return { code: 1, reason: String(error), output: `${output}\n${error.stack}` };
  } finally {
    if (exited === undefined) {
      child.kill('SIGTERM');
      await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (exited === undefined) child.kill('SIGKILL');
    }
  }
}

function run(command, commandArgs, { cwd, env, timeout = 600_000 }) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeout);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? 1 : (code ?? 1),
        reason: timedOut ? `timed out after ${seconds(timeout)}` : undefined,
        stdout,
        output,
      });
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Node `version` from the npm registry (the binary ships inside the package), cached. */
function fetchNode(version) {
  const name = `node-${process.platform}-${process.arch}`;
  const folder = join(tmpdir(), `hop-consumers-${name}-${version}`);
  const binary = join(folder, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  console.log(`Fetching Node ${version} (${name} from the npm registry) for the Jest apps...`);
  rmSync(folder, { recursive: true, force: true });
  const fetched = spawnSync('npm', ['pack', `${name}@${version}`, '--pack-destination', tmpdir()], {
    encoding: 'utf8',
    env: baseEnv,
  });
  const tarball = fetched.stdout?.trim().split('\n').pop();
  if (fetched.status !== 0 || !tarball) {
    console.error(`npm pack ${name}@${version} failed: ${fetched.stderr || fetched.error}`);
    process.exit(2);
  }
  mkdirSync(folder, { recursive: true });
  const unpacked = spawnSync('tar', ['-xzf', join(tmpdir(), tarball), '-C', folder]);
  rmSync(join(tmpdir(), tarball), { force: true });
  if (unpacked.status !== 0 || !existsSync(binary)) {
    console.error(`could not unpack ${tarball} into ${folder}`);
    process.exit(2);
  }
  return binary;
}

function nodeVersionOf(binary) {
  const result = spawnSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(
      `CONSUMERS_NEWER_NODE=${binary} does not run: ${result.error ?? (result.stderr || `exit ${result.status}`)}`,
    );
    process.exit(2);
  }
  return result.stdout.trim();
}

function atLeast(version, minimum) {
  const [a, b] = [version, minimum].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

function tail(text, lines = 40) {
  return stripVTControlCharacters(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function indent(text) {
  return text.replace(/^/gm, '    | ');
}

function seconds(ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
