// The real restic (Debian's package), the independent reader and writer of the format.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface ResticRepo {
  /** restic's name for the repository: a path, or s3:http://host:port/bucket/prefix */
  repo: string;
  env: NodeJS.ProcessEnv;
}

export async function restic(target: ResticRepo, args: string[]): Promise<string> {
  try {
    const running = exec("restic", ["-r", target.repo, "--no-cache", ...args], {
      env: { ...process.env, ...target.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    // restic asks on stdin for a password it did not get (an empty one, say): never wait on it.
    running.child.stdin?.end();
    const { stdout } = await running;
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    throw new Error(`restic ${args.join(" ")} failed (exit ${e.code}):\n${e.stderr ?? ""}${e.stdout ?? ""}`);
  }
}

export async function resticSnapshots(
  target: ResticRepo,
): Promise<Array<{ id: string; time: string; paths: string[]; tree: string; tags?: string[] }>> {
  return JSON.parse(await restic(target, ["snapshots", "--json"])) as Array<{
    id: string;
    time: string;
    paths: string[];
    tree: string;
    tags?: string[];
  }>;
}
