import { Session } from 'node:inspector/promises';
import type { ServerReport, ServerRequest } from './ipc.js';
import { describeError } from './ipc.js';

/** A server under test, listening on a loopback port. */
export interface RunningServer {
  readonly port: number;
  /** Deliveries accepted so far (for the module servers: handler runs). */
  handled(): number;
  close(): Promise<void>;
}

/**
 * Runs inside a forked child: starts the server, reports its port, answers the orchestrator's
 * `stats` request with the peak RSS, and exits on `stop` (or when the orchestrator goes away).
 * Started by hand (`PORT=3000 node bench/dist/servers/module-fastify.js`, e.g. to profile it
 * with other tools), it listens on `PORT` (default: any free port) and prints its URL.
 */
export function serveForBenchmark(start: (port: number) => Promise<RunningServer>): void {
  const send = (report: ServerReport): void => {
    process.send?.(report);
  };
  const port = process.send ? 0 : Number(process.env.PORT ?? 0);
  // This process's own inspector session, opened when allocations are first sampled.
  let inspector: Session | undefined;
  start(port).then(
    (server) => {
      if (!process.send) console.log(`listening on http://127.0.0.1:${server.port}`);
      process.on('message', (request: ServerRequest) => {
        if (request.type === 'stats') {
          const usage = process.resourceUsage();
          send({
            type: 'stats',
            maxRssKb: usage.maxRSS,
            cpuUs: usage.userCPUTime + usage.systemCPUTime,
            handled: server.handled(),
          });
        } else if (request.type === 'sample-allocations') {
          inspector ??= connectedSession();
          void sampleAllocations(inspector, request.start).then((bytes) =>
            send({ type: 'allocations', bytes, handled: server.handled() }),
          );
        } else if (request.type === 'stop') {
          // A normal exit (not a kill), so that `--cpu-prof` writes its profile; a connection
          // that lingers must not keep the child alive.
          setTimeout(() => process.exit(0), 3000);
          void server.close().finally(() => process.exit(0));
        }
      });
      process.on('disconnect', () => process.exit(0));
      send({ type: 'ready', port: server.port });
    },
    (error: unknown) => {
      send({ type: 'failed', message: describeError(error) });
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}

/**
 * Starts (`start`) or stops the sampling heap profiler over this process's own inspector, and
 * sums what it sampled: every allocation, those the garbage collector has taken back included,
 * so the figure is what the process allocated in between, not what it kept. 0 when starting.
 */
async function sampleAllocations(session: Session, start: boolean): Promise<number> {
  if (start) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return 0;
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const pending = [profile.head];
  for (let node = pending.pop(); node; node = pending.pop()) {
    bytes += node.selfSize;
    pending.push(...node.children);
  }
  return bytes;
}

function connectedSession(): Session {
  const session = new Session();
  session.connect();
  return session;
}

/** The port a Node HTTP server ended up on after `listen(0)`. */
export function portOf(server: { address(): unknown }): number {
  const address = server.address();
  if (typeof address === 'object' && address !== null && 'port' in address) {
    return Number(address.port);
  }
  throw new Error(`server is not listening on a TCP port (address: ${String(address)})`);
}
