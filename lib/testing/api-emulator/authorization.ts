import { createHash } from 'node:crypto';
import { HOP_PROJECT_ID_FORMAT, HOP_TOKEN_FORMAT, hopTokenKind } from '../../api/api.formats.js';
import { ApiFailure } from './answer.js';

const THIS_PROJECT = '@this';

/**
 * Checks `Authorization` and returns the token; messages never repeat it. With
 * `acceptedTokens`, only those are let in.
 */
export function authenticate(
  header: string | undefined,
  acceptedTokens: ReadonlySet<string> | undefined,
): string {
  if (header === undefined || header === '') {
    throw new ApiFailure(
      401,
      'unauthorized',
      'The Authorization header is missing: send the raw token (ptk_…, pat_… or bearer_…)',
    );
  }
  if (/^bearer\s/i.test(header)) {
    throw new ApiFailure(
      401,
      'unauthorized',
      'Authorization must be the raw token, without the word "Bearer" before it',
    );
  }
  if (!HOP_TOKEN_FORMAT.test(header)) {
    throw new ApiFailure(
      401,
      'unauthorized',
      'Authorization is not a Hop token: expected ptk_…, pat_… or bearer_… followed by letters, digits, _ or -',
    );
  }
  if (acceptedTokens && !acceptedTokens.has(header)) {
    throw new ApiFailure(
      401,
      'unauthorized',
      'This token is not accepted: the emulator was started with a list of tokens and it is not in it',
    );
  }
  return header;
}

/** The project a request acts on, from the path's `:project` and the kind of token. */
export function resolveProject(project: string, token: string): string {
  const isProjectToken = hopTokenKind(token) === 'ptk';
  if (project === THIS_PROJECT) {
    if (isProjectToken) return projectIdForToken(token);
    throw new ApiFailure(
      400,
      'invalid_project',
      'A project id is needed: @this only works with a project token (ptk_…); with a personal access token or bearer token, put the project id (project_…) in the path',
    );
  }
  if (!HOP_PROJECT_ID_FORMAT.test(project)) {
    throw new ApiFailure(
      400,
      'invalid_project',
      `${JSON.stringify(project)} is not a project id: use project_… or, with a project token, @this`,
    );
  }
  if (isProjectToken && project !== projectIdForToken(token)) {
    throw new ApiFailure(
      403,
      'forbidden',
      `This project token belongs to another project than ${project}: use @this, or a personal access token`,
    );
  }
  return project;
}

/**
 * The project a `ptk_` token stands for: derived from a hash of the token, so the same token
 * always reaches the same webhooks, in Hop's id style (a base64-encoded 18-digit number).
 */
function projectIdForToken(token: string): string {
  const digest = createHash('sha256').update(token).digest();
  const digits = (digest.readBigUInt64BE(0) % 10n ** 18n).toString().padStart(18, '0');
  return `project_${Buffer.from(digits).toString('base64')}`;
}
