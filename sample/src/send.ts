import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { HOP_EVENTS, isHopEventName } from 'nestjs-hop-webhooks';
import { buildHopEvent, postHopEvent } from 'nestjs-hop-webhooks/testing';
import { webhookSecret } from './sample-secret.js';

const USAGE = `Posts a correctly signed Hop event to a running app.

usage: npm run send -- <event-name> [--url <url>] [--secret <whsec_…>] [--data <json-file>]
       npm run send -- --list

  --url     webhook URL (default http://127.0.0.1:$PORT/hop/webhook, PORT defaults to 3000)
  --secret  signing secret (default $HOP_WEBHOOK_SECRET, else the sample's development secret)
  --data    JSON file whose content replaces the event's example data`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      secret: { type: 'string' },
      data: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return print(USAGE, 0);
  if (values.list)
    return print(HOP_EVENTS.map((event) => `${event.id}  (${event.name})`).join('\n'), 0);
  const [name] = positionals;
  if (!name || positionals.length > 1) return print(USAGE, 2);
  if (!isHopEventName(name)) {
    console.warn(
      `'${name}' is not in the event catalog (npm run send -- --list): sending it with empty data`,
    );
  }
  const data: unknown = values.data ? JSON.parse(await readFile(values.data, 'utf8')) : undefined;
  const event = buildHopEvent(name, data === undefined ? {} : { data });
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 3000}/hop/webhook`;
  const response = await postHopEvent(url, event, values.secret ?? webhookSecret());
  const body = await response.text();
  console.log(
    `${event.event} ${event.id} → ${response.status} ${response.statusText}${body ? ` ${body}` : ''}`,
  );
  return response.ok ? 0 : 1;
}

function print(text: string, code: number): number {
  (code === 0 ? console.log : console.error)(text);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
