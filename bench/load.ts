import autocannon from 'autocannon';
import { WEBHOOK_PATH, type BenchDelivery } from './fixture.js';

export interface LoadOptions {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  readonly rate?: number;
}

let next = 0;

/**
 * Posts the deliveries of `pool` in turn (each connection takes the next one) to the server's
 * webhook route: a warm-up whose figures are discarded (none with `warmupSeconds: 0`), then
 * the measured run.
 */
export function loadServer(
  baseUrl: string,
  pool: readonly BenchDelivery[],
  options: LoadOptions,
): Promise<autocannon.Result> {
  return Promise.resolve(
    autocannon({
      url: `${baseUrl}${WEBHOOK_PATH}`,
      connections: options.connections,
      pipelining: 1,
      ...(options.rate === undefined ? {} : { overallRate: options.rate }),
      ...(options.warmupSeconds === 0
        ? {}
        : { warmup: { connections: options.connections, duration: options.warmupSeconds } }),
      duration: options.durationSeconds,
      requests: [
        {
          method: 'POST',
          path: WEBHOOK_PATH,
          setupRequest: (request) => {
            const delivery = pool[next % pool.length];
            next += 1;
            return { ...request, body: delivery.bodyBytes, headers: { ...delivery.headers } };
          },
        },
      ],
    }),
  );
}
