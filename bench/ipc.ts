/** What the orchestrator asks a server child. */
export type ServerRequest = { readonly type: 'stats' } | { readonly type: 'stop' };

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
  | { readonly type: 'failed'; readonly message: string };

/** What a measuring child (verify, bootstrap) reports once it is done. */
export type ResultReport<R> =
  | { readonly type: 'result'; readonly result: R }
  | { readonly type: 'failed'; readonly message: string };

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
