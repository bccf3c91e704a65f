import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server that gives every request the same answer. */
export interface FixedAnswerServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** `METHOD path` of every request received, oldest first. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 answering `status` with `body` as `contentType`: it stands for
 * what is not Hop's API (a mistyped `baseUrl`, a captive portal, a proxy's error page).
 */
export function startFixedAnswerServer(
  status: number,
  contentType: string,
  body: string,
): Promise<FixedAnswerServer> {
  return startAnsweringServer((response) => {
    response.writeHead(status, { 'content-type': contentType }).end(body);
  });
}

/** Starts a server on 127.0.0.1 that reads each request whole, then lets `answer` answer it. */
export async function startAnsweringServer(
  answer: (response: ServerResponse) => void,
): Promise<FixedAnswerServer> {
  const received: string[] = [];
  const server = createServer((request, response) => {
    received.push(`${request.method} ${request.url}`);
    request.resume();
    request.on('end', () => answer(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
