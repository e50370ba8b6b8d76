// A Stryker ignorer: mutants inside a call to the gateway's logger change only what a log line says,
// which no caller and no provider can observe (docs/contract.md promises no log text). They are the
// only mutants excluded from the score; see stryker.config.mjs.
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

const LOGGERS = new Set(["log", "warnOnce"]);

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "log-calls", {
    shouldIgnore(path) {
      const node = path.node;
      if (node.type === "CallExpression" && node.callee.type === "Identifier" && LOGGERS.has(node.callee.name)) {
        return "log text is not observable: only the log line would change";
      }
      return undefined;
    },
  }),
];
