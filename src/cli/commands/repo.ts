import type { Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { checkRepository } from "../../repo/check.js";
import { unlockRepository, withLock } from "../../repo/lock.js";
import { registerRepoMaintenance } from "./repo-maintenance.js";
import { describeKeyFile } from "../../repo/keyfile.js";
import { fileKey, parseId, shortId } from "../../repo/layout.js";
import { listIds, Repository } from "../../repo/repository.js";
import { repeatable } from "../repeatable.js";
import { formatTable, outputOption, printOutput } from "../output.js";
import {
  addNoLockFlag,
  addRepoFlags,
  openRepository,
  readPassword,
  storeFor,
  type RepoFlags,
} from "../repo-flags.js";

export function registerRepo(program: Command): void {
  const repo = program.command("repo").description("restic-format repositories: create, list, keys");

  addRepoFlags(repo.command("init").description("create a repository (restic format v2) at a location"))
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { output: string }, command: Command) => {
      const password = await readPassword(opts);
      const store = storeFor(opts.repo, command);
      await store.createRoot?.();
      const r = await Repository.init(store, password);
      printOutput(
        opts.output,
        { id: r.config.id, location: r.location, version: r.config.version },
        () => `created repository ${shortId(r.config.id)} at ${r.location}`,
      );
      r.close();
    });

  addNoLockFlag(addRepoFlags(repo.command("snapshots").description("list the snapshots in a repository")))
    .addOption(outputOption())
    .option("--tag <tag>", "only snapshots with this tag (repeatable)", repeatable)
    .action(async (opts: RepoFlags & { output: string; tag?: string[] }, command: Command) => {
      const r = await openRepository(command);
      try {
        const all = (await withLock(r, false, () => r.listSnapshots())).filter(({ snapshot }) =>
          (opts.tag ?? []).every((t) => snapshot.tags?.includes(t)),
        );
        printOutput(
          opts.output,
          all.map(({ id, snapshot }) => ({ id, ...snapshot })),
          () =>
            formatTable(
              ["ID", "TIME", "HOST", "TAGS", "PATHS"],
              all.map(({ id, snapshot: s }) => [
                shortId(id),
                s.time,
                s.hostname ?? "",
                (s.tags ?? []).join(","),
                s.paths.join(","),
              ]),
            ),
        );
      } finally {
        r.close();
      }
    });

  addNoLockFlag(
    addRepoFlags(
      repo.command("check").description("check the repository's structure and, with --read-data, every byte"),
    ),
  )
    .option("--read-data", "download and verify every pack and blob")
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { readData?: boolean; output: string }, command: Command) => {
      const r = await openRepository(command);
      try {
        const result = await checkRepository(r, { readData: opts.readData });
        printOutput(opts.output, result, () =>
          [
            `checked ${result.snapshots} snapshots, ${result.trees} trees${opts.readData ? `, ${result.packsRead} packs read` : ""}`,
            ...result.notes.map((n) => `note: ${n}`),
            ...result.errors.map((e) => `error: ${e}`),
            result.errors.length ? `${result.errors.length} error(s) found` : "no errors were found",
            ...result.hints.map((h) => `hint: ${h}`),
          ].join("\n"),
        );
        if (result.errors.length) process.exitCode = 1;
      } finally {
        r.close();
      }
    });

  registerRepoMaintenance(repo);

  addRepoFlags(
    repo
      .command("unlock")
      .description(
        "remove stale locks (older than 30 minutes, or of a process of this host that is gone); with --remove-all, every lock",
      ),
  )
    .option("--remove-all", "remove every lock, also those of running operations")
    .action(async (opts: RepoFlags & { removeAll?: boolean }, command: Command) => {
      const r = await openRepository(command, { index: false });
      try {
        const { removed, kept } = await unlockRepository(r, { removeAll: opts.removeAll });
        for (const { id, lock } of removed)
          process.stdout.write(
            `removed lock ${shortId(id)}` +
              (lock
                ? ` of ${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${lock.time}`
                : " (unreadable)") +
              "\n",
          );
        process.stdout.write(
          `${removed.length} lock(s) removed` +
            (kept ? `, ${kept} kept (in use, or unreadable; \`--remove-all\` removes them too)` : "") +
            "\n",
        );
      } finally {
        r.close();
      }
    });

  const key = repo.command("key").description("the passwords (key files) that open a repository");
  addRepoFlags(key.command("list").description("list key files"))
    .addOption(outputOption())
    .action(async (opts: RepoFlags & { output: string }, command: Command) => {
      const r = await openRepository(command);
      try {
        const keys: Array<{
          id: string;
          current: boolean;
          created: string;
          username: string;
          hostname: string;
        }> = [];
        for (const id of await listIds(r.store, "keys")) {
          const meta = describeKeyFile(await r.store.get(fileKey("keys", id)), `key ${shortId(id)}`);
          keys.push({ id, current: id === r.keyId, ...meta });
        }
        printOutput(opts.output, keys, () =>
          formatTable(
            ["ID", "CURRENT", "USER", "HOST", "CREATED"],
            keys.map((k) => [shortId(k.id), k.current ? "*" : "", k.username, k.hostname, k.created]),
          ),
        );
      } finally {
        r.close();
      }
    });
  addRepoFlags(key.command("add").description("add a password"))
    .requiredOption("--new-password-file <file>", "file holding the new password")
    .action(async (opts: RepoFlags & { newPasswordFile: string }, command: Command) => {
      const r = await openRepository(command);
      try {
        const id = await r.addKey(await readPassword({ passwordFile: opts.newPasswordFile }));
        process.stdout.write(`added key ${shortId(id)}\n`);
      } finally {
        r.close();
      }
    });
  addRepoFlags(key.command("remove").description("remove a password (not the one in use)"))
    .argument("<id>", "key ID (full, or a unique prefix)")
    .action(async (ref: string, _opts: RepoFlags, command: Command) => {
      const r = await openRepository(command);
      try {
        const matches = (await listIds(r.store, "keys")).filter((id) => id.startsWith(ref.toLowerCase()));
        if (matches.length !== 1)
          throw new ArcaError(`key ${ref} matches ${matches.length} keys; give more of its ID`);
        await r.removeKey(parseId(matches[0] as string, "key ID"));
        process.stdout.write(`removed key ${shortId(matches[0] as string)}\n`);
      } finally {
        r.close();
      }
    });
}
