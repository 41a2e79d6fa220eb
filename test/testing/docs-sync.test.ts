import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as testing from '../../src/testing/index';

// docs/testing.md shows code that runs in test/testing/docs-examples.test.ts. This keeps the two
// in sync: the code blocks of the guide, imports aside, must be the test file's example sections
// (the parts after each `// docs/testing.md` marker), verbatim and in order. The guide imports
// from the package ('rx-llm-router', 'rx-llm-router/testing') where the test imports from the
// sources, so those imports are compared by name; every other import must match verbatim.
const root = resolve(__dirname, '..', '..');
const guide = readFileSync(resolve(root, 'docs/testing.md'), 'utf8');
const examples = readFileSync(resolve(root, 'test/testing/docs-examples.test.ts'), 'utf8');

const importStatement = /^import\s[\s\S]*?\sfrom\s'([^']+)';\n?/gm;

function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** The names an import statement brings in, `type` modifiers dropped. */
function importedNames(statement: string): string[] {
  const braces = /\{([\s\S]*?)\}/.exec(statement)?.[1] ?? '';
  return braces
    .split(',')
    .map((name) => name.replace(/^\s*type\s+/, '').trim())
    .filter((name) => name !== '');
}

function imports(code: string): { specifier: string; statement: string }[] {
  return [...code.matchAll(importStatement)].map((m) => ({
    statement: m[0].trim(),
    specifier: m[1]!,
  }));
}

function normalize(code: string): string {
  return code
    .split(/\n{2,}/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join('\n\n');
}

const blocks = codeBlocks(guide);
const guideImports = blocks.flatMap(imports);
const guideCode = normalize(blocks.map((b) => b.replace(importStatement, '')).join('\n\n'));
const [testHeader = '', ...testSections] = examples.split(/^\/\/ docs\/testing\.md.*\n/m);
const testImports = imports(testHeader);

it('should find the examples in the guide and in the test file', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  expect(testSections).toHaveLength(2);
});

it('should show the example tests of docs-examples.test.ts verbatim', () => {
  expect(guideCode).toBe(normalize(testSections.join('\n\n')));
});

it('should import in the guide what the test imports', () => {
  const testNames = new Set(
    testImports
      .filter((i) => i.specifier.startsWith('../../src/'))
      .flatMap((i) => importedNames(i.statement)),
  );
  for (const { specifier, statement } of guideImports) {
    if (specifier === 'rx-llm-router' || specifier === 'rx-llm-router/testing') {
      for (const name of importedNames(statement))
        expect([specifier, name, testNames.has(name)]).toEqual([specifier, name, true]);
    } else {
      expect(testImports.map((i) => i.statement)).toContain(statement);
    }
  }
  const guideNames = new Set(guideImports.flatMap((i) => importedNames(i.statement)));
  for (const name of testNames) expect([name, guideNames.has(name)]).toEqual([name, true]);
});

it('should import from rx-llm-router/testing only what it exports', () => {
  const names = guideImports
    .filter((i) => i.specifier === 'rx-llm-router/testing')
    .flatMap((i) => importedNames(i.statement));
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(Object.keys(testing)).toContain(name);
});
