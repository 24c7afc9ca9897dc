// Specs import only framework-free modules: NestJS 12 ships ES modules that Jest's CommonJS
// runtime cannot require on Node 20, so the server is exercised over HTTP as a child process.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }],
};
const moduleNameMapper = {
  '^@kriten/(executor|results|persistence)$': '<rootDir>/libs/$1/src',
  '^@kriten/(executor|results|persistence)/(.*)$': '<rootDir>/libs/$1/src/$2',
};

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};
