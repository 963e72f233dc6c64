// --help for a person: clipanion shows every value as `#0` (`--level #0`) and
// its usage line names no option. The value names and usage lines each binary
// gives replace them, and the option column is laid out again. Pure.

export interface HelpText {
  /** The name of each option's value (`--level` → `N`); a value without one is shown as VALUE. */
  valueNames?: Record<string, string>;
  /** The usage lines, without the binary's name (`[--once] LOG_DIR...`). */
  usage?: string[];
}

/** Value names both binaries share. */
const COMMON: Record<string, string> = { '--log-level': 'LEVEL', '--log-format': 'text|json' };

const OPTION = /^ {2}(-\S+)( #\d+)?\s{4,}(.*)$/;

/** clipanion's help text for `binary`, with value names, the binary's usage lines, and the option column laid out again. */
export function readableHelp(text: string, binary: string, help: HelpText): string {
  const names = { ...COMMON, ...help.valueNames };
  const lines = text.split('\n');
  const options: Array<{ index: number; definition: string; description: string }> = [];
  lines.forEach((line, index) => {
    const m = OPTION.exec(line);
    if (!m) return;
    const flag = m[1]!.split(',').find((name) => name.startsWith('--')) ?? m[1]!;
    options.push({ index, definition: m[2] ? `${m[1]} ${names[flag] ?? 'VALUE'}` : m[1]!, description: m[3]! });
  });
  const width = Math.max(0, ...options.map((o) => o.definition.length));
  for (const o of options) lines[o.index] = `  ${o.definition.padEnd(width)}    ${o.description}`;
  let out = lines.join('\n');
  if (help.usage?.length) {
    const usageLine = new RegExp(`^\\$ ${binary.replace(/[-]/g, '\\-')} .*$`, 'm');
    out = out.replace(usageLine, help.usage.map((usage) => `$ ${binary} ${usage}`).join('\n'));
  }
  return out;
}
