// A stand-in for the admin's `shopify.i18n` over the extension's own en.default.json: dotted
// keys, {{name}} interpolation, one/other plurals by `count`. A missing key throws, so a render
// test fails when a component asks for a string the locale file lacks.

import { readFileSync } from 'node:fs';
import type { Messages } from '../src/presentation.ts';

type Tree = { [key: string]: string | Tree };

export const EN: Tree = JSON.parse(
  readFileSync(new URL('../locales/en.default.json', import.meta.url), 'utf8'),
) as Tree;

const plural = new Intl.PluralRules('en');

export function lookup(tree: Tree, key: string): string | Tree | undefined {
  let node: string | Tree | undefined = tree;
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = node[part];
  }
  return node;
}

export function englishMessages(): Messages {
  return {
    translate(key, options = {}) {
      let entry = lookup(EN, key);
      if (entry !== undefined && typeof entry !== 'string' && typeof options.count === 'number') {
        entry = entry[plural.select(options.count)] ?? entry.other;
      }
      if (typeof entry !== 'string') throw new Error(`missing translation: ${key}`);
      return entry.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
        const value = options[name];
        if (value === undefined) throw new Error(`missing replacement ${name} for ${key}`);
        return String(value);
      });
    },
    formatDate(date, options) {
      return new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' }).format(date);
    },
  };
}
