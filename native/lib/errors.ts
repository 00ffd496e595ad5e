// One error helper for the whole package, in sharp's style: name the parameter,
// what was expected and what was received.

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}' of type string`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} of type ${typeof value}`;
  }
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${value.constructor.name} of length ${length}`;
  }
  if (Array.isArray(value)) return `Array of length ${value.length}`;
  // A TensorFlow.js tensor (recognised by shape, without depending on tfjs).
  const tensor = value as { shape?: unknown; dtype?: unknown };
  if (typeof value === 'object' && Array.isArray(tensor.shape) && typeof tensor.dtype === 'string') {
    return `a ${tensor.dtype} tensor of shape [${tensor.shape.join(',')}]`;
  }
  if (typeof value === 'function') return 'a function';
  return `${(value as object).constructor?.name ?? 'Object'} object`;
}

export function invalidParameterError(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function outOfRangeError(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}
