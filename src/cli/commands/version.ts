import type { Command } from "commander";
import { versionInfo } from "../versions.js";
import { printOutput, outputOption } from "../output.js";

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print Arca's version and the API versions it was built against")
    .addOption(outputOption())
    .action((opts: { output: string }) => {
      const info = versionInfo();
      printOutput(opts.output, info, () =>
        [
          `Arca:                 ${info.arca}`,
          `Node.js:              ${info.node}`,
          `Repository format:    ${info.repositoryFormat}`,
          `Arca API:             ${info.apiGroupVersion}`,
          `Kubernetes API:       ${info.kubernetesApi}`,
          `S3 API:               @aws-sdk/client-s3 ${info.dependencies["@aws-sdk/client-s3"]}`,
        ].join("\n"),
      );
    });
}
