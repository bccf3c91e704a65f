import { RequestMethod, VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';
import type { ResolvedHopWebhooksRoute } from './hop-webhooks.config.js';

/**
 * Where the webhook route answers once Nest has applied the app's global prefix and
 * versioning, e.g. `POST /api/hop/webhook`, for the startup log. Follows Nest's own rules:
 * an excluded route gets no prefix, URI versioning adds `/v<version>` unless the route is
 * version-neutral, and other kinds of versioning are named since the path does not show them.
 */
export function describeHopWebhooksRoute(
  route: ResolvedHopWebhooksRoute,
  app: ApplicationConfig | undefined,
): string {
  const prefix = app && !isExcludedFromPrefix(route, app) ? app.getGlobalPrefix() : '';
  const versioning = app?.getVersioning();
  const versions = Array.isArray(route.version) ? route.version : [route.version];
  const named = versions.filter((version): version is string => version !== VERSION_NEUTRAL);
  if (versioning?.type === VersioningType.URI) {
    const versionPrefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
    const segments = versions.map((version) =>
      version === VERSION_NEUTRAL ? '' : `${versionPrefix}${String(version)}`,
    );
    return segments.map((segment) => `POST ${joinPath(prefix, segment, route.path)}`).join(', ');
  }
  const path = `POST ${joinPath(prefix, route.path)}`;
  if (!versioning || named.length === 0) return path;
  const neutral = named.length < versions.length ? ' or none' : '';
  return `${path} (${VersioningType[versioning.type].toLowerCase()} version ${named.join(', ')}${neutral})`;
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
  return `/${parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}
