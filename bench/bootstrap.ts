// What wiring 1,000 @OnHopEvent handlers costs at startup, beside @nestjs/event-emitter wiring
// 1,000 @OnEvent handlers. Run by run.ts in a child process of its own (with --expose-gc), or
// directly: node --expose-gc bench/dist/bootstrap.js
import 'reflect-metadata';
import {
  Injectable,
  Module,
  type DynamicModule,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { ExpressAdapter } from '@nestjs/platform-express';
import { HOP_EVENTS, HopWebhooksModule, OnHopEvent } from 'nestjs-hop-webhooks';
import { loadConfig } from './config.js';
import { SECRET } from './fixture.js';
import { reportMeasurement } from './ipc.js';
import { formatBootstrapTable } from './report.js';
import { median } from './stats.js';

export const PROVIDER_CLASSES = 100;
export const METHODS_PER_CLASS = 10;
export const HANDLERS = PROVIDER_CLASSES * METHODS_PER_CLASS;

/** (i) to (iv) of the comparison: which module, and whether the methods are decorated. */
export type BootstrapVariant =
  'hopDecorated' | 'hopUndecorated' | 'eventEmitterDecorated' | 'eventEmitterUndecorated';

export const BOOTSTRAP_VARIANTS: readonly BootstrapVariant[] = [
  'hopDecorated',
  'hopUndecorated',
  'eventEmitterDecorated',
  'eventEmitterUndecorated',
];

export interface BootstrapVariantFigures {
  /** Median of `NestFactory.create` (scanning and instantiating: Nest's DI). */
  readonly createMs: number;
  /** Median of `app.init()` (lifecycle hooks, where both modules wire their handlers). */
  readonly initMs: number;
  readonly initSamplesMs: readonly number[];
}

export interface BootstrapResult {
  readonly handlers: number;
  readonly repeats: number;
  readonly variants: Readonly<Record<BootstrapVariant, BootstrapVariantFigures>>;
  /** Median init time with handlers minus without: what wiring 1,000 handlers costs. */
  readonly wiringMs: { readonly hop: number; readonly eventEmitter: number };
}

const WARMUP_REPEATS = 2;

type Decoration = 'hop' | 'eventEmitter' | 'none';

/**
 * 100 fresh provider classes with 10 handler methods each, decorated by calling the decorators
 * as TypeScript would; the event names cycle through the catalog.
 */
function handlerClasses(decoration: Decoration): Type[] {
  const classes: Type[] = [];
  for (let index = 0; index < PROVIDER_CLASSES; index += 1) {
    const handlers = class {};
    Object.defineProperty(handlers, 'name', { value: `Handlers${index}` });
    const prototype = handlers.prototype as object;
    for (let method = 0; method < METHODS_PER_CLASS; method += 1) {
      const key = `on${method}`;
      Object.defineProperty(prototype, key, {
        value: function handle(event: unknown): unknown {
          return event;
        },
        writable: true,
        configurable: true,
      });
      const descriptor = Object.getOwnPropertyDescriptor(prototype, key) as PropertyDescriptor;
      const name = HOP_EVENTS[(index * METHODS_PER_CLASS + method) % HOP_EVENTS.length].id;
      if (decoration === 'hop') OnHopEvent(name)(prototype, key, descriptor);
      if (decoration === 'eventEmitter') OnEvent(`hop.${name}`)(prototype, key, descriptor);
    }
    Injectable()(handlers);
    classes.push(handlers);
  }
  return classes;
}

function receiverModule(variant: BootstrapVariant, logging: false | 'startup'): DynamicModule {
  return variant.startsWith('hop')
    ? HopWebhooksModule.forRoot({ secret: SECRET, logging })
    : // maxListeners 0, as the module's own emitter: ~30 handlers per name must not warn.
      EventEmitterModule.forRoot({ maxListeners: 0 });
}

function appModule(variant: BootstrapVariant, logging: false | 'startup' = false): Type {
  const decoration: Decoration = !variant.endsWith('Decorated')
    ? 'none'
    : variant.startsWith('hop')
      ? 'hop'
      : 'eventEmitter';
  class BootstrapBenchModule {}
  Module({ imports: [receiverModule(variant, logging)], providers: handlerClasses(decoration) })(
    BootstrapBenchModule,
  );
  return BootstrapBenchModule;
}

/** Creates and initialises one app with fresh classes; returns both phases' durations. */
async function bootOnce(variant: BootstrapVariant): Promise<{ createMs: number; initMs: number }> {
  const module = appModule(variant);
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const app = await NestFactory.create(module, new ExpressAdapter(), {
    logger: false,
    rawBody: true,
    abortOnError: false,
  });
  const created = performance.now();
  // Collect what creating left behind, so that init is not charged for it.
  (globalThis as { gc?: () => void }).gc?.();
  const initStarted = performance.now();
  await app.init();
  const initialised = performance.now();
  await app.close();
  return { createMs: created - started, initMs: initialised - initStarted };
}

/** Both modules must really wire the 1,000 handlers, or the timing means nothing. */
async function checkWiring(): Promise<void> {
  const lines: string[] = [];
  const record = (message: unknown): void => {
    lines.push(String(message));
  };
  const logger: LoggerService = { log: record, warn: record, error: record };
  const hop = await NestFactory.create(appModule('hopDecorated', 'startup'), new ExpressAdapter(), {
    logger,
    rawBody: true,
    abortOnError: false,
  });
  await hop.init();
  await hop.close();
  if (!lines.some((line) => line.includes(`${HANDLERS} handler(s) wired`))) {
    throw new Error(`HopWebhooksModule did not report ${HANDLERS} wired handlers`);
  }
  const emitter = await NestFactory.create(
    appModule('eventEmitterDecorated'),
    new ExpressAdapter(),
    {
      logger: false,
      rawBody: true,
      abortOnError: false,
    },
  );
  await emitter.init();
  const events = emitter.get(EventEmitter2);
  const listeners = HOP_EVENTS.reduce(
    (sum, event) => sum + events.listenerCount(`hop.${event.id}`),
    0,
  );
  await emitter.close();
  if (listeners !== HANDLERS) {
    throw new Error(`EventEmitterModule wired ${listeners} listeners, expected ${HANDLERS}`);
  }
}

export async function runBootstrapBenchmark(repeats: number): Promise<BootstrapResult> {
  await checkWiring();
  const samples = new Map<BootstrapVariant, { createMs: number; initMs: number }[]>(
    BOOTSTRAP_VARIANTS.map((variant) => [variant, []]),
  );
  for (let repeat = 0; repeat < WARMUP_REPEATS + repeats; repeat += 1) {
    // Rotated, so that no variant always runs first (or right after a GC-heavy one).
    const offset = repeat % BOOTSTRAP_VARIANTS.length;
    const order = [...BOOTSTRAP_VARIANTS.slice(offset), ...BOOTSTRAP_VARIANTS.slice(0, offset)];
    for (const variant of order) {
      const timing = await bootOnce(variant);
      if (repeat >= WARMUP_REPEATS) samples.get(variant)?.push(timing);
    }
  }
  const figures = (variant: BootstrapVariant): BootstrapVariantFigures => {
    const timings = samples.get(variant) ?? [];
    const initSamplesMs = timings.map((timing) => timing.initMs);
    return {
      createMs: median(timings.map((timing) => timing.createMs)),
      initMs: median(initSamplesMs),
      initSamplesMs,
    };
  };
  const variants = {
    hopDecorated: figures('hopDecorated'),
    hopUndecorated: figures('hopUndecorated'),
    eventEmitterDecorated: figures('eventEmitterDecorated'),
    eventEmitterUndecorated: figures('eventEmitterUndecorated'),
  };
  return {
    handlers: HANDLERS,
    repeats,
    variants,
    wiringMs: {
      hop: variants.hopDecorated.initMs - variants.hopUndecorated.initMs,
      eventEmitter: variants.eventEmitterDecorated.initMs - variants.eventEmitterUndecorated.initMs,
    },
  };
}

const { bootstrapRepeats } = loadConfig();
await reportMeasurement(() => runBootstrapBenchmark(bootstrapRepeats), formatBootstrapTable);
