import { isHttpUrl } from '../../core/checks.js';
import { isHopEventName, type HopEventName } from '../../core/events.catalog.js';
import { ApiFailure, methodNotAllowed, success, type Answer } from './answer.js';
import { authenticate, resolveProject } from './authorization.js';
import {
  maskWebhook,
  type EmulatorWebhookStore,
  type WebhookFields,
} from './emulator-webhook.store.js';
import { readJsonBody, type ReceivedRequest } from './request.reader.js';

const API_ROUTES = '/v1/projects/:project/webhooks[/:webhook_id[/regenerate]]';

type ApiRoute =
  | { kind: 'webhooks'; project: string }
  | { kind: 'webhook'; project: string; webhookId: string }
  | { kind: 'regenerate'; project: string; webhookId: string };

const ALLOWED_METHODS: Readonly<Record<ApiRoute['kind'], readonly string[]>> = {
  webhooks: ['GET', 'POST'],
  webhook: ['PATCH', 'DELETE'],
  regenerate: ['POST'],
};

/**
 * Answers one request of Hop's webhook API (`/v1/…`) from `store`: the route, then the method,
 * then the token, then the project, then the webhook, then the body, as Hop checks them.
 */
export function answerApiRequest(
  request: ReceivedRequest,
  store: EmulatorWebhookStore,
  acceptedTokens: ReadonlySet<string> | undefined,
): Answer {
  const route = matchApiRoute(request.path);
  if (!route) {
    throw new ApiFailure(
      404,
      'route_not_found',
      `No route ${request.method} ${request.path}: the emulator serves ${API_ROUTES}`,
    );
  }
  const allowed = ALLOWED_METHODS[route.kind];
  if (!allowed.includes(request.method)) throw methodNotAllowed(request, allowed);
  const token = authenticate(request.authorization, acceptedTokens);
  const projectId = resolveProject(route.project, token);

  if (route.kind === 'webhooks') {
    if (request.method === 'GET') {
      return success(200, { webhooks: store.list(projectId).map(maskWebhook) });
    }
    const fields = readWebhookFields(readJsonBody(request.body), 'create');
    return success(201, { webhook: store.create(projectId, fields) });
  }
  const webhook = store.get(projectId, route.webhookId);
  if (route.kind === 'regenerate') {
    return success(200, { secret: store.regenerateSecret(webhook.id) });
  }
  if (request.method === 'DELETE') {
    store.delete(webhook.id);
    return { status: 204 };
  }
  const changes = readWebhookFields(readJsonBody(request.body), 'edit');
  return success(200, { webhook: maskWebhook(store.edit(webhook.id, changes)) });
}

function matchApiRoute(path: string): ApiRoute | undefined {
  const segments = path.split('/').slice(1);
  if (segments.length < 4 || segments.length > 6) return undefined;
  const [version, projects, rawProject, webhooks, rawWebhookId, action] = segments;
  if (version !== 'v1' || projects !== 'projects' || webhooks !== 'webhooks') return undefined;
  const project = decodeSegment(rawProject!);
  if (!project) return undefined;
  if (rawWebhookId === undefined) return { kind: 'webhooks', project };
  const webhookId = decodeSegment(rawWebhookId);
  if (!webhookId) return undefined;
  if (action === undefined) return { kind: 'webhook', project, webhookId };
  return action === 'regenerate' ? { kind: 'regenerate', project, webhookId } : undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `webhook_url` and `events` of a create (both required) or an edit (at least one); every
 * problem is named in one message. Other fields are ignored, as Hop does.
 */
function readWebhookFields(body: Record<string, unknown>, purpose: 'create'): WebhookFields;
function readWebhookFields(body: Record<string, unknown>, purpose: 'edit'): Partial<WebhookFields>;
function readWebhookFields(
  body: Record<string, unknown>,
  purpose: 'create' | 'edit',
): Partial<WebhookFields> {
  const { webhook_url: url, events } = body;
  if (purpose === 'edit' && url === undefined && events === undefined) {
    throw new ApiFailure(
      400,
      'validation_error',
      'Nothing to edit: give `webhook_url`, `events` or both',
    );
  }
  const problems: string[] = [];
  const fields: Partial<WebhookFields> = {};
  if (url !== undefined || purpose === 'create') {
    if (isHttpUrl(url)) fields.webhook_url = url;
    else
      problems.push(
        '`webhook_url` must be an absolute http(s) URL, e.g. https://example.com/hop/webhook',
      );
  }
  if (events !== undefined || purpose === 'create') {
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((name) => typeof name === 'string')
    ) {
      problems.push('`events` must be a non-empty array of event names');
    } else {
      const unknown = events.filter((name) => !isHopEventName(name));
      if (unknown.length > 0) {
        problems.push(
          `\`events\` has names Hop does not send: ${[...new Set(unknown)].join(', ')}`,
        );
      } else {
        // A name listed twice is one subscription.
        fields.events = [...new Set(events as HopEventName[])];
      }
    }
  }
  if (problems.length > 0) throw new ApiFailure(400, 'validation_error', problems.join('; '));
  return fields;
}
