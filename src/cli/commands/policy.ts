import { Option, type Command } from "commander";
import { locationPolicy, type PolicyProvider } from "../../storage/index.js";

export function registerPolicy(program: Command): void {
  program
    .command("policy")
    .description("print the least-privilege policy (RAM or IAM JSON) that a backup location needs")
    .addOption(
      new Option("--provider <provider>", "cloud whose policy language to use")
        .choices(["alibabacloud", "aws"])
        .makeOptionMandatory(),
    )
    .option("--bucket <bucket>", "scope the policy to this bucket (default: every bucket)")
    .action((opts: { provider: PolicyProvider; bucket?: string }) => {
      process.stdout.write(JSON.stringify(locationPolicy(opts.provider, opts.bucket), null, 2) + "\n");
    });
}
