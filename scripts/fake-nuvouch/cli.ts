// `npm run fake:nuvouch`: the fake Nuvouch API on 127.0.0.1:8790 for local development,
// with the dev secrets, sending its callbacks to the gateway at http://127.0.0.1:8787.

import { basename } from "node:path";
import { parseArgs } from "node:util";
import { localDevVars, secretList } from "../lib/dev-vars.ts";
import { startFakeNuvouch } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.FAKE_NUVOUCH_PORT ?? "8790" },
    gateway: { type: "string", default: process.env.GATEWAY_URL ?? "http://127.0.0.1:8787" },
  },
});

const { file, vars: secrets } = localDevVars();
const source = basename(file);
const apiKey = secrets.NUVOUCH_INTEGRATOR_API_KEY;
const callbackSecret = secretList(secrets.NUVOUCH_CALLBACK_SECRET)[0];
if (!apiKey || !callbackSecret) {
  console.error(`${source} lacks NUVOUCH_INTEGRATOR_API_KEY or NUVOUCH_CALLBACK_SECRET`);
  process.exit(2);
}
const fake = await startFakeNuvouch({ apiKey, callbackSecret, gatewayUrl: values.gateway, port: Number(values.port) });
console.log(
  `fake Nuvouch API on ${fake.url} (key and callback secret from ${source}); callbacks go to ${values.gateway}`,
);
console.log(`  accept a connection:  curl -X POST ${fake.url}/_control/callbacks/accept/<connectionSessionId>`);
console.log(`  approve a request:    curl -X POST ${fake.url}/_control/callbacks/approve/<externalRequestId>`);
console.log(`  approve, no callback: curl -X POST ${fake.url}/_control/decisions/approve/<externalRequestId>`);
console.log(
  `  misbehave next call:  curl -X POST ${fake.url}/_control/faults -d '{"faults":[{"status":429,"retryAfter":1}]}'`,
);
const stop = () => fake.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
