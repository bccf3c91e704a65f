// The floor: what verifying a delivery costs with nothing but Node. Buffers the body, checks
// the HMAC-SHA256 of its bytes in constant time, answers 204 (401 on a mismatch).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { SECRET, SIGNATURE_HEADER } from '../fixture.js';
import { portOf, serveForBenchmark } from '../server-child.js';

serveForBenchmark(async (port) => {
  let handled = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = request.headers[SIGNATURE_HEADER];
      const expected = typeof header === 'string' ? Buffer.from(header, 'hex') : undefined;
      const actual = createHmac('sha256', SECRET).update(body).digest();
      const valid = expected?.length === actual.length && timingSafeEqual(actual, expected);
      if (valid) handled += 1;
      response.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: portOf(server),
    handled: () => handled,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
