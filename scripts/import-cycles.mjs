#!/usr/bin/env node
// No import loop inside a package: every relative import and re-export of
// packages/*/src, type-only ones included (a loop of types still ties the
// files together: neither can be read, moved or tested without the other).
// Prints each loop found and exits 1; `npm run lint` runs it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** `import ... from './x.js'`, `import type ...`, `export ... from`, `import './x.js'`: the relative specifier. */
const IMPORT = /^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"](\.{1,2}\/[^'"]+)['"]/gm;

/**
 * The package's source files and, for each, the files of the package it imports.
 * @param {string} srcDir
 * @returns {Map<string, Set<string>>}
 */
export function importGraph(srcDir) {
  const files = readdirSync(srcDir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(srcDir, file));
  /** @type {Map<string, Set<string>>} */
  const graph = new Map();
  for (const file of files) {
    /** @type {Set<string>} */
    const imports = new Set();
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), String(specifier)).replace(/\.js$/, '.ts');
      if (files.includes(target)) imports.add(target);
    }
    graph.set(file, imports);
  }
  return graph;
}

/**
 * Each loop once, as the files along it (the first again at the end).
 * @param {Map<string, Set<string>>} graph
 * @returns {string[][]}
 */
export function findCycles(graph) {
  /** @type {string[][]} */
  const cycles = [];
  const done = new Set();
  /** @type {string[]} */
  const stack = [];
  /** @param {string} file */
  const visit = (file) => {
    const at = stack.indexOf(file);
    if (at >= 0) return void cycles.push([...stack.slice(at), file]);
    if (done.has(file)) return;
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return cycles;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const packages = readdirSync(path.join(root, 'packages'));
  const cycles = packages.flatMap((name) => findCycles(importGraph(path.join(root, 'packages', name, 'src'))));
  for (const cycle of cycles)
    console.error(`import loop: ${cycle.map((file) => path.relative(root, file)).join(' -> ')}`);
  if (cycles.length > 0) process.exit(1);
  console.log(`no import loop inside ${packages.join(', ')}`);
}
