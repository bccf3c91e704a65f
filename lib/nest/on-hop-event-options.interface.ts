/** Options of `@OnHopEvent`. */
export interface OnHopEventOptions {
  /**
   * When this handler throws, log the failure but still acknowledge the delivery, so Hop does
   * not retry the event for its sake (other handlers' failures still answer 500).
   * @default false
   */
  suppressErrors?: boolean;
}
