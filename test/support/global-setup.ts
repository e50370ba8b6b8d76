import type { TestProject } from "vitest/node";
import { startForwardSink } from "./forward-sink";

declare module "vitest" {
  export interface ProvidedContext {
    forwardSinkUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const sink = await startForwardSink();
  project.provide("forwardSinkUrl", sink.url);
  return sink.close;
}
