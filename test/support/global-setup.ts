import type { TestProject } from "vitest/node";
import { startFakeNuvouch } from "../../scripts/fake-nuvouch/server.ts";
import { startForwardSink } from "./forward-sink";
import { TEST_SECRETS } from "./secrets";

declare module "vitest" {
  export interface ProvidedContext {
    forwardSinkUrl: string;
    fakeNuvouchUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const sink = await startForwardSink();
  const nuvouch = await startFakeNuvouch({
    apiKey: TEST_SECRETS.NUVOUCH_INTEGRATOR_API_KEY,
    callbackSecret: TEST_SECRETS.NUVOUCH_CALLBACK_SECRET,
  });
  project.provide("forwardSinkUrl", sink.url);
  project.provide("fakeNuvouchUrl", nuvouch.url);
  return async () => {
    await Promise.all([sink.close(), nuvouch.close()]);
  };
}
