// Shared jest settings: every package runs its TypeScript tests through ts-jest
// in transpile-only mode (type errors are `pnpm typecheck`'s job, not the test run's).
module.exports = {
  testEnvironment: 'node',
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true, sourceMap: true }, diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
};
