// Memory of the default idempotency store: heap after 200,000 distinct event ids through an
// InMemoryHopEventStore at its default capacity, beside a naive Set that remembers every id.
// Run by run.ts in a child process with --expose-gc, or: node --expose-gc bench/dist/store-memory.js
import { pathToFileURL } from 'node:url';
import { hopId } from 'nestjs-hop-webhooks/testing';
import { InMemoryHopEventStore } from 'nestjs-hop-webhooks';
import { reportMeasurement } from './ipc.js';
import { formatFixed, formatTable } from './table.js';

export const STORE_IDS = 200_000;
/** The documented bound on heap growth after {@link STORE_IDS} ids at the default capacity. */
export const STORE_HEAP_BOUND_MB = 4;

export interface StoreMemoryResult {
  readonly ids: number;
  readonly capacity: number;
  /** Heap growth once the store holds `capacity` ids. */
  readonly heapAtCapacityMb: number;
  /** Heap growth after all `ids` went through it. */
  readonly heapAfterAllMb: number;
  /** The same ids kept in a `Set`: what remembering every id would cost. */
  readonly naiveSetMb: number;
  readonly remembered: number;
}

const LEASE_MS = 300_000;

export function runStoreMemoryBenchmark(): StoreMemoryResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const heap = (): number => {
    gc();
    gc();
    // The store's typed arrays keep their bytes outside the heap: counted too.
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const mb = (bytes: number): number => bytes / 1024 / 1024;

  const base = heap();
  const store = new InMemoryHopEventStore();
  let atCapacity = 0;
  for (let i = 0; i < STORE_IDS; i++) {
    const id = hopId('event');
    void store.claim(id, LEASE_MS);
    void store.complete(id);
    if (i + 1 === store.capacity) atCapacity = heap() - base;
  }
  const afterAll = heap() - base;
  const remembered = store.size;

  const naive = new Set<string>();
  const naiveBase = heap();
  for (let i = 0; i < STORE_IDS; i++) naive.add(hopId('event'));
  const naiveSet = heap() - naiveBase;
  if (naive.size !== STORE_IDS) throw new Error('the baseline Set lost ids');

  return {
    ids: STORE_IDS,
    capacity: store.capacity,
    heapAtCapacityMb: mb(atCapacity),
    heapAfterAllMb: mb(afterAll),
    naiveSetMb: mb(naiveSet),
    remembered,
  };
}

export function formatStoreMemoryTable(result: StoreMemoryResult): string {
  return formatTable(
    ['idempotency store', 'ids through it', 'ids kept', 'heap growth MB'],
    [
      [
        `InMemoryHopEventStore (capacity ${result.capacity.toLocaleString('en-US')}), when full`,
        result.capacity.toLocaleString('en-US'),
        result.capacity.toLocaleString('en-US'),
        formatFixed(result.heapAtCapacityMb, 2),
      ],
      [
        'InMemoryHopEventStore, after all ids',
        result.ids.toLocaleString('en-US'),
        result.remembered.toLocaleString('en-US'),
        formatFixed(result.heapAfterAllMb, 2),
      ],
      [
        'baseline: a Set of every id',
        result.ids.toLocaleString('en-US'),
        result.ids.toLocaleString('en-US'),
        formatFixed(result.naiveSetMb, 2),
      ],
    ],
  );
}

// run.ts imports the table and the bound from here: measure only when run as a script.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await reportMeasurement(runStoreMemoryBenchmark, formatStoreMemoryTable);
}
