import type { Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { fsBackupJob, fsRestoreJob } from "../../jobs/fs.js";
import { runJob, type Job } from "../../jobs/runner.js";
import { shortId } from "../../repo/layout.js";
import { abortOnSignals } from "../interrupt.js";
import { repeatable } from "../repeatable.js";
import { versionInfo } from "../versions.js";
import { cliProgress, formatBytes } from "../progress.js";
import { addNoLockFlag, addRepoFlags, cliRepository, sessionOptions, type RepoFlags } from "../repo-flags.js";

/** Runs a directory job on --repo with the terminal's progress; Ctrl-C stops it cleanly. */
async function runFsJob<T>(command: Command, json: boolean, interrupted: string, job: Job<T>): Promise<T> {
  const { signal, dispose } = abortOnSignals();
  try {
    return await runJob(
      {
        location: cliRepository(command),
        ...sessionOptions(command.opts<RepoFlags>()),
        log: { echoLevel: process.env.ARCA_LOG_LEVEL ?? "warn" },
        progress: cliProgress(json),
        signal,
      },
      job,
    );
  } catch (err) {
    if (signal.aborted) throw new ArcaError(interrupted, { cause: err });
    throw err;
  } finally {
    dispose();
  }
}

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
        const result = await runFsJob(
          command,
          opts.json === true,
          `the backup of ${dir} was interrupted; no snapshot was written`,
          fsBackupJob({
            dir,
            parent: opts.parent,
            tags: opts.tag,
            hostname: opts.host,
            programVersion: `arca ${versionInfo().arca}`,
          }),
        );
        const { parent } = result;
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
      },
    );

  addNoLockFlag(
    addRepoFlags(fs.command("restore").description("restore a snapshot, or a path in it, into a directory")),
  )
    .argument("<snapshot>", "snapshot ID, prefix or 'latest', optionally :/path/inside")
    .argument("<dir>", "target directory")
    .option("--json", "progress and result as JSON lines")
    .action(async (ref: string, dir: string, opts: RepoFlags & { json?: boolean }, command: Command) => {
      const colon = ref.indexOf(":");
      const snapshot = colon < 0 ? ref : ref.slice(0, colon);
      const include = colon < 0 ? undefined : ref.slice(colon + 1);
      const result = await runFsJob(
        command,
        opts.json === true,
        `the restore into ${dir} was interrupted; the files written so far stay`,
        fsRestoreJob({ snapshot, target: dir, include }),
      );
      const { id, ...counts } = result;
      if (opts.json)
        process.stdout.write(JSON.stringify({ type: "summary", snapshot: id, ...counts }) + "\n");
      else
        process.stdout.write(
          `restored snapshot ${shortId(id)}${include ? `:${include}` : ""} to ${dir}: ${result.files} files, ` +
            `${formatBytes(result.bytes)} written, ${formatBytes(result.bytesSkipped)} already in place\n`,
        );
    });
}
