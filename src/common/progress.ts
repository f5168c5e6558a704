// The one progress interface for long work. The CLI draws a bar on a TTY or prints JSON
// lines; the controller will write CR status. Engines only call it.

export interface ProgressCounts {
  files: number;
  bytes: number;
  /** Known totals, when the engine has counted them. */
  totalFiles?: number;
  totalBytes?: number;
  /** What is being worked on, for display. */
  current?: string;
  /** Larger steps, such as resource types, when the work has them. */
  stepsDone?: number;
  stepsTotal?: number;
  warnings?: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** Something was skipped but the work goes on (an unreadable file, say). */
  warning(message: string): void;
}

export const noProgress: Progress = {
  update() {},
  warning() {},
};
