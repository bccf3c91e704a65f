// Stands for "no answer yet" when `settleWithin` looks at an answer before arming its timer.
const NOT_YET = Symbol('not yet');

/** What {@link settleWithin} rejects with when time is up. */
export class HopTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HopTimeoutError';
  }
}

/**
 * Settles like `result`, or rejects with `HopTimeoutError(message)` once `limitMs` have passed; the work
 * behind `result` is not cancelled. The timer is cleared as soon as either settles.
 */
export async function settleWithin<T>(
  result: T | PromiseLike<T>,
  limitMs: number,
  message: string,
): Promise<T> {
  // An answer that is there at once (a synchronous handler's) settles without a timer.
  const first = await Promise.race([result, NOT_YET]);
  if (first !== NOT_YET) return first as T;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HopTimeoutError(message)), limitMs);
  });
  try {
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
