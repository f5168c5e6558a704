// arca repo forget | prune | repair index | copy | stats
import { Option, type Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { copySnapshots } from "../../repo/copy.js";
import { forgetSnapshots, type RetentionPolicy } from "../../repo/forget.js";
import { shortId } from "../../repo/layout.js";
import { pruneRepository } from "../../repo/prune.js";
import { repairIndex } from "../../repo/repair-index.js";
import { Repository } from "../../repo/repository.js";
import { repeatable } from "../repeatable.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import { cliProgress, formatBytes } from "../progress.js";
import { addRepoFlags, openRepository, readPassword, storeFor, type RepoFlags } from "../repo-flags.js";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ArcaError(`expected a whole number, not ${JSON.stringify(value)}`);
  return n;
}

export function registerRepoMaintenance(repo: Command): void {
  addRepoFlags(repo.command("forget").description("remove snapshots that a retention policy does not keep"))
    .addOption(new Option("--keep-last <n>", "keep the n newest snapshots").argParser(count))
    .addOption(
      new Option("--keep-hourly <n>", "keep the newest of each of the last n hours").argParser(count),
    )
    .addOption(new Option("--keep-daily <n>", "keep the newest of each of the last n days").argParser(count))
    .addOption(
      new Option("--keep-weekly <n>", "keep the newest of each of the last n weeks").argParser(count),
    )
    .addOption(
      new Option("--keep-monthly <n>", "keep the newest of each of the last n months").argParser(count),
    )
    .addOption(
      new Option("--keep-yearly <n>", "keep the newest of each of the last n years").argParser(count),
    )
    .option("--keep-tag <tag>", "keep every snapshot with one of these tags (repeatable)", repeatable)
    .option("--tag <tag>", "only consider snapshots with all of these tags (repeatable)", repeatable)
    .option("--dry-run", "show what would be removed, remove nothing")
    .option("--prune", "prune unreferenced data afterwards")
    .addOption(outputOption())
    .action(async (opts: RepoFlags & Record<string, unknown> & { output: string }, command: Command) => {
      const policy: RetentionPolicy = {
        last: opts.keepLast as number | undefined,
        hourly: opts.keepHourly as number | undefined,
        daily: opts.keepDaily as number | undefined,
        weekly: opts.keepWeekly as number | undefined,
        monthly: opts.keepMonthly as number | undefined,
        yearly: opts.keepYearly as number | undefined,
        keepTags: opts.keepTag as string[] | undefined,
      };
      const r = await openRepository(command);
      try {
        const decisions = await forgetSnapshots(r, policy, {
          tags: opts.tag as string[] | undefined,
          dryRun: Boolean(opts.dryRun),
        });
        printOutput(
          opts.output,
          decisions.map(({ id, keep, reasons, snapshot }) => ({ id, keep, reasons, time: snapshot.time })),
          () =>
            formatTable(
              ["ID", "TIME", "ACTION", "REASONS"],
              decisions.map((d) => [
                shortId(d.id),
                d.snapshot.time,
                d.keep ? "keep" : opts.dryRun ? "would remove" : "removed",
                d.reasons.join("; "),
              ]),
            ),
        );
        if (opts.prune && !opts.dryRun) {
          const progress = cliProgress(false, "packs repacked");
          const p = await pruneRepository(r, { progress });
          progress.done();
          if (opts.output === "table")
            process.stdout.write(
              `pruned: ${p.packsDeleted} packs deleted, ${formatBytes(p.bytesFreed)} freed\n`,
            );
        }
      } finally {
        r.close();
      }
    });

  addRepoFlags(repo.command("prune").description("delete data that no snapshot references"))
    .option("--dry-run", "show what would be deleted")
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { dryRun?: boolean; output: string }, command: Command) => {
      const r = await openRepository(command);
      try {
        const progress = cliProgress(false, "packs repacked");
        const result = await pruneRepository(r, { dryRun: opts.dryRun, progress });
        progress.done();
        printOutput(
          opts.output,
          result,
          () =>
            `${opts.dryRun ? "would delete" : "deleted"} ${result.packsDeleted} packs, repacked ${result.packsRepacked}, ` +
            `freed ${formatBytes(result.bytesFreed)}; ${result.usedBlobs} blobs in use, ${result.unusedBlobs} unused` +
            (result.leftoversRemoved
              ? `; removed ${result.leftoversRemoved} partial file(s) of interrupted writers`
              : ""),
        );
      } finally {
        r.close();
      }
    });

  const repair = repo.command("repair").description("rebuild damaged repository metadata");
  addRepoFlags(
    repair
      .command("index")
      .description("rebuild the index from the packs themselves (deletes no pack; restic: rebuild-index)"),
  )
    .option("--read-all-packs", "read every pack's header, not only those the old index does not describe")
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { readAllPacks?: boolean; output: string }, command: Command) => {
      // Damaged index files are what this replaces: they must not stop it from opening.
      const r = await openRepository(command, { skipDamagedIndex: true });
      try {
        const progress = cliProgress(false, "pack headers read");
        const result = await repairIndex(r, { readAllPacks: opts.readAllPacks, progress });
        progress.done();
        printOutput(opts.output, result, () =>
          [
            ...result.damagedIndexFiles.map(
              (d) => `replaced damaged index file ${shortId(d.file)}: ${d.reason}`,
            ),
            ...result.missingPacks.map(
              (p) => `warning: pack ${shortId(p)} was in the index but is missing from storage: left out`,
            ),
            `new index: ${result.packs} packs, ${result.blobs} blobs (${result.packsRead} pack headers read); ` +
              `${result.indexFilesRemoved} old index file(s) removed`,
            ...(result.unreadable.length
              ? [
                  `${result.unreadable.length} pack(s) could not be read and are not indexed (they stay in storage): ` +
                    result.unreadable.map((u) => shortId(u.pack)).join(", "),
                ]
              : []),
            "run `arca repo check` to see whether every snapshot is complete",
          ].join("\n"),
        );
        if (result.unreadable.length) process.exitCode = 1;
      } finally {
        r.close();
      }
    });

  addRepoFlags(
    repo.command("copy").description("copy snapshots into another repository (only missing data moves)"),
  )
    .requiredOption("--to <url>", "destination repository location")
    .requiredOption("--to-password-file <file>", "file holding the destination's password")
    .argument("[snapshots...]", "snapshot IDs or prefixes (default: all)")
    .addOption(outputOption())
    .action(
      async (
        refs: string[],
        opts: RepoFlags & { to: string; toPasswordFile: string; output: string },
        command: Command,
      ) => {
        const source = await openRepository(command);
        try {
          const target = await Repository.open(
            storeFor(opts.to, command),
            await readPassword({ passwordFile: opts.toPasswordFile }),
          );
          try {
            const ids = refs.length
              ? await Promise.all(refs.map(async (ref) => (await source.findSnapshot(ref)).id))
              : undefined;
            const result = await copySnapshots(source, target, { snapshots: ids });
            printOutput(opts.output, result, () =>
              [
                ...result.copied.map((c) => `copied ${shortId(c.source)} -> ${shortId(c.target)}`),
                ...result.skipped.map((s) => `skipped ${shortId(s)} (already there)`),
                `${result.blobsCopied} blobs, ${formatBytes(result.bytesCopied)} copied`,
              ].join("\n"),
            );
          } finally {
            target.close();
          }
        } finally {
          source.close();
        }
      },
    );

  addRepoFlags(repo.command("stats").description("sizes and counts"))
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { output: string }, command: Command) => {
      const r = await openRepository(command);
      try {
        let storedBytes = 0;
        let packs = 0;
        for await (const item of r.store.list("data/")) {
          storedBytes += item.size;
          packs++;
        }
        let rawBytes = 0;
        for (const b of r.index.entries()) rawBytes += r.blobSize(b.id) ?? 0;
        const stats = {
          snapshots: (await r.listSnapshots()).length,
          blobs: r.index.blobCount,
          packs,
          storedBytes,
          rawBytes,
        };
        printOutput(
          opts.output,
          stats,
          () =>
            `${stats.snapshots} snapshots, ${stats.blobs} blobs in ${stats.packs} packs\n` +
            `stored ${formatBytes(storedBytes)} for ${formatBytes(rawBytes)} of unique data` +
            (rawBytes ? ` (${((storedBytes / rawBytes) * 100).toFixed(1)}%)` : ""),
        );
      } finally {
        r.close();
      }
    });
}
