// Coverage of the CLI comes from c8 (pnpm test:coverage), which follows the subprocesses its
// tests start; jest's own coverage would only see the few modules imported in-process.
module.exports = {
  ...require('../../jest.preset.js'),
  roots: ['<rootDir>/src'].concat(require('fs').existsSync(__dirname + '/test') ? ['<rootDir>/test'] : []),
};
