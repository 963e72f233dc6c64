// Which log files are closed, and so due for compression. Pure: the clock and
// the files' stats are passed in, so that every rule is testable.
import { compareLogNames, groupLogNames, type LogName } from '@logjam/core';

/** A file is closed by the clock this long after its stamp (as the Python tool: 1 h 5 min). */
export const CLOSE_AFTER_MS = 65 * 60 * 1000;

export interface Candidate {
  log: LogName;
  /** The file's modification time (epoch ms). */
  mtimeMs: number;
}

export type WaitReason = 'open' | 'grace';

export interface Selection {
  /** Closed and past their grace period: compress these, oldest first. */
  due: Candidate[];
  /** Not due yet, with the instant each becomes due (if nothing changes). */
  waiting: Array<Candidate & { reason: WaitReason; dueAt: number }>;
  /** The earliest instant a waiting file becomes due; undefined when nothing waits. */
  nextDueAt: number | undefined;
}

export interface SelectOptions {
  now: number;
  /** Files modified less than this long ago are left alone (0 disables). */
  minAgeMs: number;
}

/**
 * The closing rule. A file is closed when a newer file (by stamp) of its group
 * exists, or when its stamp is more than 65 minutes before `now`. A closed file
 * is due once its mtime is at least `minAgeMs` old.
 */
export function selectDue(candidates: readonly Candidate[], options: SelectOptions): Selection {
  const { now, minAgeMs } = options;
  const byName = new Map(candidates.map((c) => [c.log.name, c] as const));
  const due: Candidate[] = [];
  const waiting: Selection['waiting'] = [];
  for (const group of groupLogNames(candidates.map((c) => c.log)).values()) {
    const newest = group[group.length - 1]!.time;
    for (const log of group) {
      const candidate = byName.get(log.name)!;
      // Strictly newer: two spellings of the same stamp do not close each other.
      const supersededByNewer = log.time < newest;
      const closedByClock = now - log.time > CLOSE_AFTER_MS;
      const closedAt = supersededByNewer || closedByClock ? now : log.time + CLOSE_AFTER_MS + 1;
      const graceEndsAt = minAgeMs > 0 ? candidate.mtimeMs + minAgeMs : -Infinity;
      if (closedAt <= now && graceEndsAt <= now) {
        due.push(candidate);
      } else {
        const reason: WaitReason = closedAt > now ? 'open' : 'grace';
        waiting.push({ ...candidate, reason, dueAt: Math.max(closedAt, graceEndsAt) });
      }
    }
  }
  due.sort((a, b) => compareLogNames(a.log, b.log));
  let nextDueAt: number | undefined;
  for (const w of waiting) if (nextDueAt === undefined || w.dueAt < nextDueAt) nextDueAt = w.dueAt;
  return { due, waiting, nextDueAt };
}
