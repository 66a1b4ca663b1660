import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SEVERITIES } from '../src/api.ts';
import { EN, lookup } from './messages.ts';

test('the extension name and description come from the default locale', () => {
  const toml = readFileSync(new URL('../shopify.extension.toml', import.meta.url), 'utf8');
  assert.match(toml, /^name = "t:name"$/m);
  assert.match(toml, /^description = "t:description"$/m);
  assert.equal(typeof EN.name, 'string');
  assert.ok((EN.name as string).length <= 30, 'admin extension names are short');
  assert.equal(typeof EN.description, 'string');
});

test('every severity and request state has a label', () => {
  for (const severity of SEVERITIES) {
    assert.equal(typeof lookup(EN, `severity.${severity}`), 'string', severity);
  }
  for (const state of ['open', 'done', 'overdue']) {
    assert.equal(typeof lookup(EN, `requests.status.${state}`), 'string', state);
  }
});

test('every source file key used with translate exists in the locale', () => {
  const sources = ['components/FindingsView.tsx', 'presentation.ts'].map((file) =>
    readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8'),
  );
  const keys = sources.flatMap((source) =>
    [...source.matchAll(/\bt\('([a-zA-Z.]+)'|translate\('([a-zA-Z.]+)'/g)].map((m) => m[1] ?? m[2]),
  );
  assert.ok(keys.length > 10, `expected many literal keys, found ${keys.length}`);
  for (const key of keys) {
    assert.notEqual(lookup(EN, key as string), undefined, `missing locale key ${key}`);
  }
});
