// The template's vocabulary: its fields and parts, for its parser (template.ts) and renderer (template-render.ts).
export const MANDATORY_FIELDS = ['prefix', 'year', 'month', 'day', 'filename'] as const;
export const OPTIONAL_FIELDS = ['hour', 'minute', 'suffix', 'extension', 'hostname'] as const;
export type Field = (typeof MANDATORY_FIELDS)[number] | (typeof OPTIONAL_FIELDS)[number];
export const ALL_FIELDS: readonly string[] = [...MANDATORY_FIELDS, ...OPTIONAL_FIELDS];

/** Literal text, or a field with Python's `!conversion` and `:spec` (both '' when absent). */
export type Part = { text: string } | { field: Field; conversion: string; spec: string };

export interface Template {
  /** The template as given. */
  readonly source: string;
  /** The bucket name's template: fields may appear in it (one bucket per prefix, say). */
  readonly bucketParts: readonly Part[];
  /** The key template, split into literal text and fields. */
  readonly parts: readonly Part[];
}

export type FieldValues = Record<Field, string>;
