// Hop's documented example delivery (docs page "Webhooks", section "Webhook Payload"), copied
// byte for byte: tab-indented, no trailing newline. Hop did not publish the secret it was signed with.

/** The `X-Hop-Hooks-Signature` value of the documented example. */
export const DOCUMENTED_SIGNATURE =
  '86EBE7F54A92C809CDF8F3DC6536C566A1C074F9B001E9118DF7EC433BE435E7';

/** The documented example body ("Body Example"). */
export const DOCUMENTED_BODY = [
  '{',
  '\t"webhook_id": "webhook_MTkzMDU5MTE4NzcyNDA0MjI3",',
  '\t"project_id": "project_MTY1MjU5NTk1NTAwNTY4NTc3",',
  '\t"occurred_at": "2023-10-02T15:46:13.323Z",',
  '\t"id": "event_MTkzMzkwODU2OTQwODkyMjgx",',
  '\t"event": "ignite.deployment.container.metrics_update",',
  '\t"data": {',
  '\t\t"metrics": {',
  '\t\t\t"memory_usage_percent": "0.07",',
  '\t\t\t"memory_usage_bytes": 393216,',
  '\t\t\t"cpu_usage_percent": "0.00"',
  '\t\t},',
  '\t\t"container_id": "container_MTkzMDc3MjExODczMDc5MzAx"',
  '\t}',
  '}',
].join('\n');
