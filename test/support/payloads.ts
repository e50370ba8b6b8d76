let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

let labelled = 0;
/** An id no other test of this run holds, that says what it is: `<label>_<n>_<time>`. */
export function uniqueId(label: string): string {
  return `${label}_${++labelled}_${Date.now().toString(36)}`;
}

export function novaEvent(overrides: Record<string, unknown> = {}) {
  return {
    eventId: `evt_${unique()}`,
    type: "payment.succeeded",
    occurredAt: "2026-04-23T10:15:30.123Z",
    data: { paymentId: "pay_1", amount: 1000, currency: "EUR" },
    version: 1,
    ...overrides,
  };
}

export function nuveiWebhook(status = "approved", overrides: Record<string, unknown> = {}) {
  return {
    transactionId: "7110000000012345678",
    merchantTransactionId: `order_${unique()}`,
    transactionType: "Auth",
    amount: 10.5,
    currency: "USD",
    result: { status },
    timeStamp: "2024-08-28T12:11:47.337302438Z",
    ...overrides,
  };
}

export function nuvouchConnectionEvent(type = "nuvouch.connection.accepted", data: Record<string, unknown> = {}) {
  return {
    id: `evt_${unique()}`,
    type,
    createdAt: "2026-11-20T10:00:00.000Z",
    data: { connectionSessionId: "cs_1", subjectId: "cus_123", contextKey: "merchant:acct_1", ...data },
  };
}

export function nuvouchApprovalEvent(type = "nuvouch.approval.approved", data: Record<string, unknown> = {}) {
  return {
    id: `evt_${unique()}`,
    type,
    createdAt: "2026-11-20T10:05:00.000Z",
    data: {
      approvalRequestId: "apr_1",
      externalRequestId: "payment_auth_001",
      subjectId: "cus_123",
      contextKey: "merchant:acct_1",
      decidedAt: "2026-11-20T10:05:00.000Z",
      ...data,
    },
  };
}
