import { isHopEventName } from '../../core/events.catalog.js';
import { ApiFailure, methodNotAllowed, success, type Answer } from './answer.js';
import type { HopApiEmulator } from './api-emulator.js';
import { readJsonBody, type ReceivedRequest } from './request.reader.js';

const CONTROL_ROUTES = 'GET /_emulator/webhooks, POST /_emulator/emit, POST /_emulator/reset';

/** The emulator's own controls, for driving it over HTTP (from the command line, say). */
type Controls = Pick<HopApiEmulator, 'webhooks' | 'emit' | 'reset'>;

/** Whether `path` is one of the emulator's controls (`/_emulator/…`) rather than Hop's API. */
export function isControlPath(path: string): boolean {
  return path === '/_emulator' || path.startsWith('/_emulator/');
}

/** Answers one request to the controls; they need no token. */
export async function answerControlRequest(
  request: ReceivedRequest,
  emulator: Controls,
): Promise<Answer> {
  const routes: Record<string, Record<string, () => Promise<Answer> | Answer>> = {
    '/_emulator/webhooks': { GET: () => success(200, { webhooks: emulator.webhooks() }) },
    '/_emulator/emit': { POST: () => emitFromHttp(request.body, emulator) },
    '/_emulator/reset': {
      POST: () => {
        emulator.reset();
        return { status: 204 };
      },
    },
  };
  const route = routes[request.path];
  if (!route) {
    throw new ApiFailure(
      404,
      'route_not_found',
      `No emulator route ${request.path}: the controls are ${CONTROL_ROUTES}`,
    );
  }
  const handler = route[request.method];
  if (!handler) throw methodNotAllowed(request, Object.keys(route));
  return handler();
}

/** `POST /_emulator/emit` `{ event, data?, project_id? }`. */
async function emitFromHttp(rawBody: Buffer, emulator: Controls): Promise<Answer> {
  const { event, data, project_id: projectId } = readJsonBody(rawBody);
  if (typeof event !== 'string' || !isHopEventName(event)) {
    throw new ApiFailure(
      400,
      'validation_error',
      '`event` must be the name of an event Hop sends, e.g. "ignite.deployment.build.updated"',
    );
  }
  if (projectId !== undefined && typeof projectId !== 'string') {
    throw new ApiFailure(400, 'validation_error', '`project_id` must be a project id (project_…)');
  }
  return success(200, await emulator.emit(event, data, { projectId }));
}
