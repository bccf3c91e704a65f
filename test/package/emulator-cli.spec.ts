// The emulator's command, `hop-api-emulator` (`npm run emulator`), as the package ships it: run
// as its own process, on a loopback port it picks, stopped with Ctrl+C.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/esm/testing/api-emulator.cli.js', import.meta.url));
const TOKEN = 'ptk_emulatorCliSpecToken_0b4d';

/** A run of the command: what it printed so far, and how it ended. */
interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, HOP_EMULATOR_PORT: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, output: () => stdout, exited };
}

describe('hop-api-emulator, the command', () => {
  const running: Run[] = [];

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error('dist/ is missing: run `npm run build` before these tests');
  });
  afterEach(() => {
    for (const { child } of running.splice(0)) child.kill('SIGKILL');
  });

  it('listens where it says, serves the API and its control routes, logs each call, and stops on Ctrl+C', async () => {
    const emulator = run(['--port', '0', '--token', TOKEN]);
    running.push(emulator);
    let url = '';
    await expect
      .poll(
        () => (url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emulator.output())?.[1] ?? ''),
        {
          timeout: 15_000,
        },
      )
      .not.toBe('');
    expect(emulator.output()).toContain('1 accepted (given with --token)');

    const created = await fetch(`${url}/v1/projects/@this/webhooks`, {
      method: 'POST',
      headers: { authorization: TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({
        webhook_url: 'http://127.0.0.1:9/hop/webhook',
        events: ['project.updated'],
      }),
    });
    expect(created.status).toBe(201);
    const refused = await fetch(`${url}/v1/projects/@this/webhooks`, {
      headers: { authorization: 'ptk_someoneElsesToken_0000' },
    });
    expect(refused.status).toBe(401);
    const webhooks = await fetch(`${url}/_emulator/webhooks`);
    expect(webhooks.status).toBe(200);
    expect(JSON.stringify(await webhooks.json())).toContain('http://127.0.0.1:9/hop/webhook');
    await expect.poll(() => emulator.output()).toContain('POST /v1/projects/@this/webhooks -> 201');
    expect(emulator.output()).toContain('GET /v1/projects/@this/webhooks -> 401');

    emulator.child.kill('SIGINT');
    expect((await emulator.exited).code).toBe(0);
    expect(emulator.output()).toContain('SIGINT: stopping the emulator');
  });

  it.each([
    [['--port', '70000'], '--port must be a port number from 0 to 65535, got "70000"'],
    [['--colour'], "Unknown option '--colour'"],
  ])('refuses %j with exit code 2, saying why and how to use it', async (args, message) => {
    const emulator = run(args);
    running.push(emulator);
    const { code, stderr } = await emulator.exited;
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: hop-api-emulator');
  });

  it('refuses a HOP_EMULATOR_PORT that is not a port, naming it', async () => {
    const emulator = run([], { HOP_EMULATOR_PORT: 'http' });
    running.push(emulator);
    const { code, stderr } = await emulator.exited;
    expect(code).toBe(2);
    expect(stderr).toContain('HOP_EMULATOR_PORT must be a port number');
  });

  it('prints its usage for --help, and exits 0', async () => {
    const emulator = run(['--help']);
    running.push(emulator);
    expect((await emulator.exited).code).toBe(0);
    expect(emulator.output()).toContain(
      'Usage: hop-api-emulator [--port <port>] [--token <token>]',
    );
  });
});
