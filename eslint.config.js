// Lint rules for the whole tree: typescript-eslint's recommended set, plus the
// project's habits (no silent switch defaults is enforced by the type checker
// through assertNever, arch/assert-never.ts, so it is not repeated here).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // functions stay short enough to read (DEVELOPERS.md)
      'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }],
    },
  },
);
