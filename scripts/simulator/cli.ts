// `npm run simulate -- <provider> <event> [options]` or `npm run simulate -- scenario <name>`:
// builds provider deliveries, signs them per docs/contract.md §2 with the local dev secrets and
// POSTs them to a running gateway, one output line per response and a summary at the end.
// The seams: arguments.ts, scenarios.ts, planning.ts, sending.ts, summary.ts.
import { defaultSources, seededRandom } from "../../src/providers/simulation.node.ts";
import { simulators } from "../../src/providers/simulators.node.ts";
import { PROJECT_ROOT } from "../lib/dev-vars.ts";
import {
  DEFAULT_NUVOUCH_URL,
  DEFAULT_URL,
  parseBaseUrl,
  parseCommandLine,
  positiveInt,
  rate,
  storyFlags,
  UsageError,
  usage,
} from "./arguments.ts";
import { plan, type Settings } from "./planning.ts";
import { listScenarios, loadScenario, type Scenario, scenarioFromFlags } from "./scenarios.ts";
import { type LoadedSecrets, loadSecrets } from "./secrets.ts";
import { formatOutcome, type Outcome, sendBatch, Unreachable } from "./sending.ts";
import { summary } from "./summary.ts";

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage(listScenarios())}`);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    console.log(usage(listScenarios()));
    return 0;
  }

  const scenarioMode = positionals[0] === "scenario";
  let scenario: Scenario;
  let baseDir = process.cwd();
  if (scenarioMode) {
    if (positionals.length !== 2)
      throw new UsageError(`usage: scenario <file-or-name>; known: ${listScenarios().join(", ")}`);
    const singleOnly = (["event-id", "body-file", "content-type", "form", "xml"] as const).filter(
      (f) => flags[f] !== undefined,
    );
    if (singleOnly.length > 0) {
      throw new UsageError(
        `--${singleOnly.join(", --")}: for a single event, not a scenario (set it in the scenario's steps)`,
      );
    }
    const loaded = loadScenario(positionals[1] as string);
    scenario = loaded.scenario;
    baseDir = loaded.baseDir;
    console.log(`scenario ${loaded.name}${scenario.description ? `: ${scenario.description}` : ""}`);
  } else {
    scenario = scenarioFromFlags(positionals, flags);
  }

  const seed = flags.seed === undefined ? scenario.seed : Number(flags.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError("--seed must be an integer");
  const settings: Settings = {
    runs: positiveInt("repeat", flags.repeat, 100_000) ?? 1,
    concurrency: positiveInt("concurrency", flags.concurrency, 256) ?? scenario.concurrency,
    shuffle: flags.shuffle ?? scenario.shuffle,
    duplicateRate: rate(flags["duplicate-rate"]) ?? scenario.duplicateRate,
    random: seed === undefined ? defaultSources.random : seededRandom(seed),
    cliFields: storyFlags(flags),
    forced: {
      stale: flags.stale ?? false,
      future: flags.future ?? false,
      wrongSecret: flags["wrong-secret"] ?? false,
      tamper: flags.tamper ?? false,
    },
  };
  const gateway = parseBaseUrl("url", flags.url ?? process.env.GATEWAY_URL ?? DEFAULT_URL);
  const nuvouch = parseBaseUrl(
    "nuvouch-url",
    flags["nuvouch-url"] ?? process.env.FAKE_NUVOUCH_URL ?? DEFAULT_NUVOUCH_URL,
  );

  let secrets: LoadedSecrets;
  try {
    secrets = loadSecrets(PROJECT_ROOT, flags["secrets-file"]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const batches = plan(scenario, baseDir, settings);
  for (const provider of new Set(
    batches.flatMap((b) => b.items.flatMap((d) => (d.kind === "delivery" && !d.wrongSecret ? [d.provider] : []))),
  )) {
    if (secrets.secrets[provider].length === 0) {
      throw new UsageError(`no ${provider} secret: set ${simulators[provider].secretBinding} in ${secrets.file}`);
    }
  }

  const outcomes: Outcome[] = [];
  const started = performance.now();
  try {
    for (const batch of batches) {
      if (batch.delayMs > 0) await new Promise((done) => setTimeout(done, batch.delayMs));
      if (batch.title) console.log(`· ${batch.title}`);
      const failed = outcomes.length;
      await sendBatch(batch, settings.concurrency, { gateway, nuvouch, secrets }, (outcome) => {
        outcomes.push(outcome);
        console.log(formatOutcome(outcome));
      });
      // A step the story waits on did not happen: what follows would only wait in vain.
      if (outcomes.slice(failed).some((o) => o.item.kind === "action" && (o.failure || o.status === undefined))) break;
    }
  } catch (error) {
    if (error instanceof Unreachable) {
      console.error(error.hint);
      return 1;
    }
    throw error;
  }
  console.log(summary(outcomes, gateway, performance.now() - started));
  // Answers of any status are results; deliveries that got no answer, and actions that did not
  // do what their story needs, are failures.
  return outcomes.some((o) => o.status === undefined || o.failure) ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(error.message);
        process.exitCode = 2;
      } else {
        console.error(error);
        process.exitCode = 1;
      }
    },
  );
}
