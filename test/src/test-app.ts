import 'reflect-metadata';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterKind = (typeof ADAPTERS)[number];

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly extra: string;
}

/** Keeps every line the app logs, so tests can assert on them (and on what they must not hold). */
export class CapturingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  log = this.capture('log');
  error = this.capture('error');
  warn = this.capture('warn');
  debug = this.capture('debug');
  verbose = this.capture('verbose');
  fatal = this.capture('fatal');

  lines(level?: string): string[] {
    return this.entries
      .filter((entry) => level === undefined || entry.level === level)
      .map((entry) => entry.message);
  }

  /** Everything logged, messages and stacks, as one text. */
  text(): string {
    return this.entries.map((entry) => `${entry.message}\n${entry.extra}`).join('\n');
  }

  private capture(level: string) {
    return (message: unknown, ...rest: unknown[]) => {
      this.entries.push({ level, message: String(message), extra: rest.map(String).join('\n') });
    };
  }
}

export interface TestApp {
  readonly app: INestApplication;
  readonly logger: CapturingLogger;
  /** The app's base URL on loopback, e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  url(path?: string): string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Nest's `rawBody` option; off, as the README creates apps (the module reads its own). */
  rawBody?: boolean;
  globalPrefix?: string;
  /** Runs before the app listens, e.g. to enable versioning. */
  configure?: (app: INestApplication) => void;
}

/** Starts a real Nest app on an ephemeral loopback port with the given adapter. */
export async function startTestApp(
  adapter: AdapterKind,
  metadata: ModuleMetadata,
  options: TestAppOptions = {},
): Promise<TestApp> {
  @Module(metadata)
  class TestAppModule {}

  const logger = new CapturingLogger();
  const httpAdapter = adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(TestAppModule, httpAdapter, {
    rawBody: options.rawBody ?? false,
    logger,
    abortOnError: false,
  });
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    app,
    logger,
    baseUrl,
    url: (path = '/hop/webhook') => `${baseUrl}${path}`,
    close: () => app.close(),
  };
}

/** Creates the app without listening, for startup failures; resolves to the error thrown. */
export async function startupError(
  metadata: ModuleMetadata,
  adapter: AdapterKind = 'express',
): Promise<Error> {
  @Module(metadata)
  class TestAppModule {}
  const httpAdapter = adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  try {
    const app = await NestFactory.create(TestAppModule, httpAdapter, {
      logger: false,
      abortOnError: false,
    });
    await app.init();
    await app.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the application started, but a startup error was expected');
}
