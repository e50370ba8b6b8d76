// `npm run deploy -- --env staging|production [--dry-run] [--secrets-file PATH]`
// See ./steps.ts for the order and why.
import { parseArgs } from "node:util";
import { defaultSecretsFile, SecretsFileError } from "./secrets.ts";
import { deploy, describeDeploy } from "./steps.ts";
import { ENVIRONMENTS, isEnvironment, readTarget } from "./target.ts";
import { StepFailed, wranglerOnPath } from "./wrangler.ts";

const USAGE = `usage: npm run deploy -- --env ${ENVIRONMENTS.join("|")} [--dry-run] [--secrets-file PATH]

  --env           the environment of wrangler.toml: production (the top level) or staging
  --dry-run       print every step and command, run nothing, touch no network
  --secrets-file  JSON file of the environment's secrets (default .secrets.<env>.json, git-ignored);
                  ADMIN_API_TOKEN and FORWARD_SIGNING_SECRET are generated into it when absent
                  (never a name wrangler.toml binds from Secrets Store, which it may not hold)`;

function main(argv: string[]): number {
  let values: { env?: string; "dry-run"?: boolean; "secrets-file"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        env: { type: "string", short: "e" },
        "dry-run": { type: "boolean" },
        "secrets-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!isEnvironment(values.env)) {
    console.error(`--env must be ${ENVIRONMENTS.join(" or ")}\n${USAGE}`);
    return 2;
  }
  const log = (line: string) => console.log(line);
  try {
    const target = readTarget(values.env);
    const secretsFile = values["secrets-file"] ?? defaultSecretsFile(values.env);
    if (values["dry-run"]) describeDeploy({ target, secretsFile, log });
    else deploy({ target, secretsFile, wrangler: wranglerOnPath(log), log });
    return 0;
  } catch (error) {
    if (error instanceof StepFailed || error instanceof SecretsFileError) {
      console.error(`deploy stopped: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
