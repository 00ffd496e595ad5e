module.exports = {
  ...require('../../jest.preset.js'),
  roots: ['<rootDir>/src'].concat(require('fs').existsSync(__dirname + '/test') ? ['<rootDir>/test'] : []),
};
