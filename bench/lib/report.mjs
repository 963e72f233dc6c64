// The Markdown a run prints, and writes to bench/RESULTS.md between markers.
import fs from 'node:fs';
import { RESULTS } from './paths.mjs';
import { f } from './util.mjs';

export class Report {
  constructor() {
    /** @type {Record<string, string>} section -> markdown */
    this.sections = {};
    /** @type {string[]} rows of the targets table */
    this.targets = [];
  }

  /** Prints a block of a section and keeps it for RESULTS.md. @param {string} section @param {string} md */
  emit(section, md) {
    this.sections[section] = (this.sections[section] || '') + md + '\n';
    process.stdout.write(md + '\n');
  }

  /**
   * A row of the targets table: what, the goal, the figure measured, whether it met the goal.
   * @param {string} what @param {string} goal @param {number} value @param {boolean} met
   */
  target(what, goal, value, met, digits = 2) {
    this.targets.push(
      `| ${what} | ${goal} | ${Number.isFinite(value) ? f(value, digits) : '–'} | ${Number.isFinite(value) ? (met ? 'yes' : '**no**') : 'not measured'} |`,
    );
  }

  /** The targets table, or null when this run measured none. */
  targetsTable() {
    if (!this.targets.length) return null;
    return `## Targets\n\nFrom this run's medians.\n\n| what | target | measured | met |\n|---|---|---|---|\n${this.targets.join('\n')}\n`;
  }

  /**
   * Replaces, in RESULTS.md, the blocks of the sections this run measured.
   * @param {readonly string[]} sections every section, in order
   * @param {{ header: string, provenance: string, complete: boolean }} blocks
   *   header: the machine block; provenance: the line that says which run measured a section;
   *   complete: whether every section ran. A partial run (--only) keeps the previous machine block
   *   (each section says which run measured it) and the previous targets table (it would be incomplete).
   */
  write(sections, { header, provenance, complete }) {
    let text = fs.existsSync(RESULTS)
      ? fs.readFileSync(RESULTS, 'utf8')
      : '# logjam benchmark results\n\nWritten by `npm run bench` (bench/run.mjs) between the markers below; text outside them is kept.\n';
    /** @param {string} key @param {string} body */
    const put = (key, body) => {
      const open = `<!-- bench:${key} -->`,
        close = `<!-- /bench:${key} -->`;
      const block = `${open}\n${body.trim()}\n${close}`;
      const i = text.indexOf(open),
        j = text.indexOf(close);
      text =
        i >= 0 && j > i
          ? text.slice(0, i) + block + text.slice(j + close.length)
          : text.trimEnd() + '\n\n' + block + '\n';
    };
    if (complete || !text.includes('<!-- bench:machine -->')) put('machine', header);
    for (const s of sections) {
      const md = this.sections[s];
      if (md) put(s, md.replace(/^(## [^\n]*\n)/, `$1\n${provenance}\n`));
    }
    const targets = this.targetsTable();
    if (complete && targets) put('targets', targets);
    fs.writeFileSync(RESULTS, text);
  }
}
