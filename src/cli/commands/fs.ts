import { resolve } from "node:path";
import type { Command } from "commander";
import { backupDirectory } from "../../snapshot/archiver.js";
import { restoreTree } from "../../snapshot/restorer.js";
import { shortId } from "../../repo/layout.js";
import { repeatable } from "../repeatable.js";
import { versionInfo } from "../versions.js";
import { cliProgress, formatBytes } from "../progress.js";
import { addNoLockFlag, addRepoFlags, openRepository, type RepoFlags } from "../repo-flags.js";

export function registerFs(program: Command): void {
  const fs = program
    .command("fs")
    .description("the volume data path on its own: back up and restore directories");

  addRepoFlags(fs.command("backup").description("back up a directory into a new snapshot"))
    .argument("<dir>", "directory to back up")
    .option("--tag <tag>", "tags for the snapshot (repeatable)", repeatable)
    .option("--parent <snapshot>", "snapshot to compare with (default: the latest of the same path)")
    .option("--host <name>", "host name to record")
    .option("--json", "progress and result as JSON lines")
    .action(
      async (
        dir: string,
        opts: RepoFlags & { tag?: string[]; parent?: string; host?: string; json?: boolean },
        command: Command,
      ) => {
        const repo = await openRepository(command);
        const progress = cliProgress(opts.json === true);
        try {
          const path = resolve(dir);
          let parent: string | undefined;
          if (opts.parent) parent = (await repo.findSnapshot(opts.parent)).id;
          else
            parent = (await repo.listSnapshots())
              .filter(({ snapshot }) => snapshot.paths.includes(path))
              .at(-1)?.id;
          const result = await backupDirectory(repo, path, {
            parent,
            tags: opts.tag,
            hostname: opts.host,
            programVersion: `arca ${versionInfo().arca}`,
            progress,
          });
          progress.done();
          const s = result.snapshot.summary;
          if (opts.json) {
            process.stdout.write(
              JSON.stringify({
                type: "summary",
                snapshot: result.id,
                ...s,
                warnings: result.warnings.length,
              }) + "\n",
            );
          } else {
            process.stdout.write(
              `snapshot ${shortId(result.id)} saved${parent ? ` (parent ${shortId(parent)})` : ""}\n` +
                `files: ${s?.files_new} new, ${s?.files_changed} changed, ${s?.files_unmodified} unmodified\n` +
                `added ${formatBytes(s?.data_added ?? 0)} (${formatBytes(s?.data_added_packed ?? 0)} stored)\n` +
                (result.warnings.length
                  ? `${result.warnings.length} warning(s): some files or their attributes were not backed up (see above)\n`
                  : ""),
            );
          }
          // A snapshot with skipped files is saved, but the exit code tells scripts about them.
          if (result.warnings.length) process.exitCode = 3;
        } finally {
          repo.close();
        }
      },
    );

  addNoLockFlag(
    addRepoFlags(fs.command("restore").description("restore a snapshot, or a path in it, into a directory")),
  )
    .argument("<snapshot>", "snapshot ID, prefix or 'latest', optionally :/path/inside")
    .argument("<dir>", "target directory")
    .option("--json", "progress and result as JSON lines")
    .action(async (ref: string, dir: string, opts: RepoFlags & { json?: boolean }, command: Command) => {
      const repo = await openRepository(command);
      const progress = cliProgress(opts.json === true);
      try {
        const colon = ref.indexOf(":");
        const snapshotRef = colon < 0 ? ref : ref.slice(0, colon);
        const include = colon < 0 ? undefined : ref.slice(colon + 1);
        const { id, snapshot } = await repo.findSnapshot(snapshotRef);
        const result = await restoreTree(repo, snapshot.tree, dir, { include, progress });
        progress.done();
        if (opts.json)
          process.stdout.write(JSON.stringify({ type: "summary", snapshot: id, ...result }) + "\n");
        else
          process.stdout.write(
            `restored snapshot ${shortId(id)}${include ? `:${include}` : ""} to ${dir}: ${result.files} files, ` +
              `${formatBytes(result.bytes)} written, ${formatBytes(result.bytesSkipped)} already in place\n`,
          );
      } finally {
        repo.close();
      }
    });
}
