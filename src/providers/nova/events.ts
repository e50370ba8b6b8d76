// The Nova event types handlers may name (`.on("nova:payment.succeeded")`). Nova's document names
// its categories (payment outcomes, survey completions, DMA events, third-party callbacks) and
// shows `payment.succeeded`, but leaves the list to an API reference we do not have: these follow
// that pattern, and are OUR ASSUMPTION. Nova adds types without notice, so the gateway accepts any
// type: one not listed here is recorded and forwarded, and reaches `nova:*` and `*` handlers only.
// Adding a name here is all it takes to subscribe to it. No imports: the simulator reads it too.
export const NOVA_EVENT_TYPES = [
  "payment.succeeded",
  "payment.failed",
  "payment.refunded",
  "survey.completed",
  "dma.session.started",
  "dma.session.ended",
  "provider.callback.received",
] as const;
