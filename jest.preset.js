// Shared jest settings: every package runs its TypeScript tests through ts-jest in
// transpile-only mode (type errors are `pnpm typecheck`'s job: it checks tests too).
module.exports = {
  testEnvironment: require.resolve('./jest.environment.cjs'),
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: {
          isolatedModules: true,
          module: 'commonjs',
          target: 'ES2022',
          esModuleInterop: true,
          sourceMap: true,
        },
        diagnostics: false,
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  // With --coverage (pnpm test:ci): what the package's own tests reach of its source.
  collectCoverageFrom: ['src/**/*.ts', 'lib/**/*.ts', '!**/*.d.ts', '!**/*.test.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { statements: 85, branches: 70, functions: 75, lines: 85 } },
};
