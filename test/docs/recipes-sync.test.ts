import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// docs/recipes.md (and the full example of docs/router.md) show code that lives in
// examples/recipes/*.ts, where tests run it (test/examples/recipes*.test.ts). Each block is
// captioned with its file's link, and must be that file verbatim, except that the file imports
// the package through its stand-in './rx-llm-router' where the guide imports 'rx-llm-router'.
const root = resolve(__dirname, '..', '..');
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');

const STAND_IN = 'rx-llm-router.ts';
const recipeFiles = readdirSync(resolve(root, 'examples/recipes'))
  .filter((f) => f.endsWith('.ts') && f !== STAND_IN)
  .map((f) => `examples/recipes/${f}`);

/** Captioned blocks: a line holding [`examples/recipes/x.ts`](...), then a ```ts block. */
function captionedBlocks(markdown: string): { file: string; code: string }[] {
  const pattern =
    /\[`(examples\/recipes\/[\w-]+\.ts)`\]\([^)\n]*\)[^\n]*\n+```ts\n([\s\S]*?)^```$/gm;
  return [...markdown.matchAll(pattern)].map((m) => ({ file: m[1]!, code: m[2]! }));
}

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** The file as the guide shows it: the package imported by its name. */
function asShown(file: string): string {
  return read(file).replaceAll("from './rx-llm-router';", "from 'rx-llm-router';");
}

const recipes = read('docs/recipes.md');
const router = read('docs/router.md');
const shown = [...captionedBlocks(recipes), ...captionedBlocks(router)];

it('should find the recipe files and their blocks in the guides', () => {
  expect(recipeFiles.length).toBeGreaterThanOrEqual(5);
  expect(captionedBlocks(router).map((b) => b.file)).toEqual([
    'examples/recipes/create-app-router.ts',
  ]);
});

it('should show every recipe file in a guide, once', () => {
  expect(shown.map((b) => b.file).sort()).toEqual([...recipeFiles].sort());
});

it.each(recipeFiles)('should show %s verbatim', (file) => {
  const block = shown.find((b) => b.file === file);
  expect(block?.code).toBe(asShown(file));
});

it('should have no TypeScript block in recipes.md that is not a recipe file', () => {
  expect(tsBlocks(recipes)).toEqual(captionedBlocks(recipes).map((b) => b.code));
});

it('should import the package only through its stand-in in the recipe files', () => {
  for (const file of recipeFiles) {
    const specifiers = [...read(file).matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const s of specifiers)
      expect([file, s]).toEqual([file, expect.stringMatching(/^(rxjs|\.\/[\w-]+)$/)]);
  }
});
