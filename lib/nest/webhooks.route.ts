import { RequestMethod, VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';
import { DEFAULT_PATH } from './constants.js';
import { fail } from './webhooks.config.js';
import type { HopWebhooksModuleExtras } from './webhooks-options.interface.js';

/** Where the webhook controller is mounted, and what it is decorated with. */
export interface ResolvedHopWebhooksRoute {
  readonly path: string;
  /** `VERSION_NEUTRAL` unless the `version` option says otherwise. */
  readonly version: string | typeof VERSION_NEUTRAL | (string | typeof VERSION_NEUTRAL)[];
  readonly decorators: readonly ClassDecorator[];
}

/** Validates `path`, `version` and `decorators`, which are known when the module is imported. */
export function resolveHopWebhooksRoute(extras: HopWebhooksModuleExtras): ResolvedHopWebhooksRoute {
  const path = extras.path ?? DEFAULT_PATH;
  const version = extras.version ?? VERSION_NEUTRAL;
  const decorators = extras.decorators ?? [];
  if (typeof path !== 'string') {
    fail(`\`path\` must be a string, got ${typeof path}`);
  }
  const versions: readonly unknown[] = Array.isArray(version) ? version : [version];
  if (
    versions.length === 0 ||
    !versions.every((item) => item === VERSION_NEUTRAL || (typeof item === 'string' && item !== ''))
  ) {
    fail(
      "`version` must be a version such as '1', an array of them, or VERSION_NEUTRAL (the default)",
    );
  }
  if (!Array.isArray(decorators) || !decorators.every((item) => typeof item === 'function')) {
    fail('`decorators` must be an array of class decorators, e.g. [Public()]');
  }
  return {
    path: trimSlashes(path),
    version: Array.isArray(version) ? [...version] : (version as string | typeof VERSION_NEUTRAL),
    decorators,
  };
}

/**
 * The paths the webhook route answers at once Nest has applied the app's global prefix and
 * versioning, by Nest's own rules: an excluded route gets no prefix, and URI versioning adds
 * `/v<version>` unless the route is version-neutral. Read at startup and by the body reader.
 */
export function hopWebhooksPaths(
  route: ResolvedHopWebhooksRoute,
  app: ApplicationConfig | undefined,
): string[] {
  const prefix = app && !isExcludedFromPrefix(route, app) ? app.getGlobalPrefix() : '';
  const versioning = app?.getVersioning();
  if (versioning?.type !== VersioningType.URI) return [joinPath(prefix, route.path)];
  const versionPrefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
  const versions = Array.isArray(route.version) ? route.version : [route.version];
  return versions.map((version) =>
    joinPath(
      prefix,
      version === VERSION_NEUTRAL ? '' : `${versionPrefix}${String(version)}`,
      route.path,
    ),
  );
}

/**
 * Where the webhook route answers, e.g. `POST /api/hop/webhook`, for the startup log; kinds
 * of versioning other than URI are named, since the path does not show them.
 */
export function describeHopWebhooksRoute(
  route: ResolvedHopWebhooksRoute,
  app: ApplicationConfig | undefined,
): string {
  const paths = hopWebhooksPaths(route, app).map((path) => `POST ${path}`);
  const versioning = app?.getVersioning();
  const versions = Array.isArray(route.version) ? route.version : [route.version];
  const named = versions.filter((version): version is string => version !== VERSION_NEUTRAL);
  if (!versioning || versioning.type === VersioningType.URI || named.length === 0) {
    return paths.join(', ');
  }
  const neutral = named.length < versions.length ? ' or none' : '';
  return `${paths[0]} (${VersioningType[versioning.type].toLowerCase()} version ${named.join(', ')}${neutral})`;
}

/** What marks this registration's route among the app's (the Fastify body reader reads it). */
export function routeMark(route: ResolvedHopWebhooksRoute): string {
  return route.path;
}

function isExcludedFromPrefix(route: ResolvedHopWebhooksRoute, app: ApplicationConfig): boolean {
  const excluded: readonly { requestMethod?: RequestMethod; pathRegex?: RegExp }[] =
    app.getGlobalPrefixOptions().exclude ?? [];
  return excluded.some(
    ({ requestMethod, pathRegex }) =>
      (requestMethod === RequestMethod.POST ||
        requestMethod === RequestMethod.ALL ||
        (requestMethod as number) === -1) &&
      pathRegex?.test(`/${route.path}`) === true,
  );
}

function joinPath(...parts: string[]): string {
  return `/${parts.map(trimSlashes).filter(Boolean).join('/')}`;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
