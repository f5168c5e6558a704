// Ctrl-C and SIGTERM abort the work in progress instead of killing the process, so that the
// engine can stop cleanly (and say that no snapshot was written). A second signal exits.
import { setMaxListeners } from "node:events";

export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  // Every request in flight listens on it; hundreds at once are expected, not a leak.
  setMaxListeners(0, controller.signal);
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${name}: stopping; press Ctrl-C again to quit at once\n`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
