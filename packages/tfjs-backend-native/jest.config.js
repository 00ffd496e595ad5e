module.exports = { ...require('../../jest.preset.js'), roots: ['<rootDir>/lib', '<rootDir>/test'] };
