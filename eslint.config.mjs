import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '*.cjs', '*.mjs', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/providers/http/**',
      'src/simulator/**',
      'src/gateway/**',
      'src/cli/**',
      'src/config/**',
      'src/logging/**',
      'src/index.ts', // the Node entry: core + HTTP providers + simulator
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Browser-safe modules must not import Node built-ins.' },
            {
              group: [
                'undici',
                'winston',
                'fs',
                'http',
                'net',
                'stream',
                'zlib',
                'crypto',
                'os',
                'path',
              ],
              message: 'Browser-safe modules must not import Node-only modules.',
            },
          ],
        },
      ],
    },
  },
);
