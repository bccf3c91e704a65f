// Hop's own Express example: keep the body as a string in `express.json`'s verify hook, then
// `constructEvent` from @onehop/js (WebCrypto, key imported on every call).
import { constructEvent } from '@onehop/js';
import express, { type Request } from 'express';
import type { Server } from 'node:http';
import { SECRET, SIGNATURE_HEADER, WEBHOOK_PATH } from '../fixture.js';
import { portOf, serveForBenchmark } from '../server-child.js';

type RequestWithRawBody = Request & { rawBody?: string };

serveForBenchmark(async (port) => {
  let handled = 0;
  const app = express();
  app.use(
    express.json({
      verify: (request, _response, buffer) => {
        (request as RequestWithRawBody).rawBody = buffer.toString();
      },
    }),
  );
  app.post(WEBHOOK_PATH, async (request: RequestWithRawBody, response) => {
    try {
      await constructEvent(request.rawBody ?? '', request.header(SIGNATURE_HEADER) ?? '', SECRET);
    } catch {
      response.sendStatus(401);
      return;
    }
    handled += 1;
    response.sendStatus(204);
  });
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(port, '127.0.0.1', () => resolve(listening));
  });
  return {
    port: portOf(server),
    handled: () => handled,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
