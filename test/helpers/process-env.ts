/**
 * The local host copies its settings into process.env and does not take them back on close, so
 * a second host in the same test file would inherit the first one's (e.g. a Cosmos endpoint
 * that is gone). Snapshot before starting a host, restore after closing it.
 */
export function snapshotProcessEnv(): () => void {
  const saved = { ...process.env };
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  };
}
