// Files in a held directory (see held-dir.ts) are reached through
// /proc/self/fd/FD; people should read the directory's name instead.

/** /proc/self/fd/FD of each held directory, and the path it stands for. */
export const shown = new Map<string, string>();

/** `text` with every /proc/self/fd/FD of a held directory replaced by the directory's path. */
export function showPaths(text: string): string {
  if (shown.size === 0 || !text.includes('/proc/self/fd/')) return text;
  return text.replace(/\/proc\/self\/fd\/\d+/g, (via) => shown.get(via) ?? via);
}
