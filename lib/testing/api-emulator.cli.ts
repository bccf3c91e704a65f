#!/usr/bin/env node
// Runs HopApiEmulator from a terminal: `npm run emulator -- --port 4010` or `npx hop-api-emulator`.
import { parseArgs } from 'node:util';
import { isWholeNumber } from '../core/checks.js';
import { HopApiEmulator } from './api-emulator/api-emulator.js';

const DEFAULT_PORT = 4010;

const USAGE = `Usage: hop-api-emulator [--port <port>] [--token <token>]...

A local Hop webhook management API on 127.0.0.1, delivering signed events on demand.

Options:
  --port <port>    Port to listen on (default: $HOP_EMULATOR_PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  --token <token>  Accept only this token (repeat for several); by default any
                   well-formed ptk_…, pat_… or bearer_… token is accepted
  -h, --help       Show this help
`;

function fail(message: string): never {
  process.stderr.write(`hop-api-emulator: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function readPort(value: string, source: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!isWholeNumber(port, 0, 65_535)) {
    fail(`${source} must be a port number from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

function readOptions(): { port: number; tokens?: string[] } {
  let values: { port?: string; token?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        token: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const envPort = process.env.HOP_EMULATOR_PORT;
  const port =
    values.port !== undefined
      ? readPort(values.port, '--port')
      : envPort
        ? readPort(envPort, 'HOP_EMULATOR_PORT')
        : DEFAULT_PORT;
  return { port, tokens: values.token };
}

async function main(): Promise<void> {
  const { port, tokens } = readOptions();
  let emulator: HopApiEmulator;
  try {
    emulator = await HopApiEmulator.start({
      port,
      tokens,
      // One line per API call, so a client's requests and retries can be followed live.
      onRequest: ({ method, path, status }) => console.log(`${method} ${path} -> ${status}`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      fail(
        `port ${port} is in use: pass --port <port> or set HOP_EMULATOR_PORT (0 picks a free one)`,
      );
    }
    fail((error as Error).message);
  }

  // Before the banner: a supervisor may signal as soon as it reads that the emulator listens.
  const stop = (signal: NodeJS.Signals) => {
    console.log(`\n${signal}: stopping the emulator`);
    emulator.close().then(
      // Idle keep-alive sockets of past deliveries would otherwise hold the process a few seconds.
      () => process.exit(0),
      (error: unknown) => {
        console.error(`hop-api-emulator: could not close cleanly: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const { url } = emulator;
  console.log(`Hop API emulator listening on ${url}
  Tokens:   ${tokens ? `${tokens.length} accepted (given with --token)` : 'any ptk_…, pat_… or bearer_… token'}
  API:      ${url}/v1/projects/@this/webhooks (ptk_ token) or ${url}/v1/projects/project_…/webhooks
  Webhooks: curl ${url}/_emulator/webhooks
  Emit an event to the subscribed webhooks:
    curl -X POST ${url}/_emulator/emit -H 'content-type: application/json' -d '{"event":"ignite.deployment.build.updated"}'
Press Ctrl+C to stop.`);
}

await main();
