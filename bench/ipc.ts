/** What the orchestrator asks a server child. */
export type ServerRequest =
  | { readonly type: 'stats' }
  | { readonly type: 'stop' }
  | { readonly type: 'sample-allocations'; readonly start: boolean };

/** What a server child reports to the orchestrator. */
export type ServerReport =
  | { readonly type: 'ready'; readonly port: number }
  | {
      readonly type: 'stats';
      readonly maxRssKb: number;
      /** User plus system CPU time of the child so far, in microseconds. */
      readonly cpuUs: number;
      readonly handled: number;
    }
  | {
      readonly type: 'allocations';
      /** Bytes allocated on the JS heap while sampling, as the sampling heap profiler estimates. */
      readonly bytes: number;
      readonly handled: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** What a measuring child (verify, bootstrap) reports once it is done. */
export type ResultReport<R> =
  | { readonly type: 'result'; readonly result: R }
  | { readonly type: 'failed'; readonly message: string };

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * The `main` of a measuring child: measures, then reports the result to the orchestrator
 * over IPC, or prints it as a table when run by hand.
 */
export async function reportMeasurement<R>(
  measure: () => R | Promise<R>,
  format: (result: R) => string,
): Promise<void> {
  try {
    const result = await measure();
    if (process.send) {
      process.send({ type: 'result', result } satisfies ResultReport<R>);
      process.disconnect();
    } else {
      console.log(format(result));
    }
  } catch (error) {
    if (!process.send) throw error;
    process.send({ type: 'failed', message: describeError(error) } satisfies ResultReport<never>);
    process.disconnect();
    process.exitCode = 1;
  }
}
