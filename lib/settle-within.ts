/**
 * Settles like `result`, or rejects with `Error(message)` once `limitMs` have passed; the work
 * behind `result` is not cancelled. The timer is cleared as soon as either settles.
 */
export function settleWithin<T>(
  result: T | PromiseLike<T>,
  limitMs: number,
  message: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), limitMs);
  });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}
