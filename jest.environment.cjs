// jest's node environment runs each test file in its own realm, which has its own typed-array
// constructors (jest already shares ArrayBuffer and Uint8Array with Node's). Typed arrays made
// by a native addon (tfjs-node's N-API binding: every dataSync() on the tensorflow backend) come
// from Node's realm, so tfjs-core's `instanceof Float32Array` checks, e.g. when it encodes
// weights to save a model, reject them in tests though they pass in plain Node. Sharing the
// remaining typed-array constructors too makes the test realm behave like Node.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeRealmTypedArrays extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmTypedArrays;
