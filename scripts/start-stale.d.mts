/** Types of scripts/start-stale.mjs (plain JavaScript: it runs before anything is compiled). */
export declare const STAMP: string;
export declare function staleSources(
  root: string,
  dirs: readonly string[],
): { files: string[]; stale: boolean };
export declare function mtime(root: string, file: string): number;
export declare function writeStamp(root: string, files: readonly string[]): void;
export declare function pruneOutputs(
  root: string,
  dirs: readonly string[],
  files: readonly string[],
): string[];
