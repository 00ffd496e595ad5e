import {
  ArgumentRangeError,
  ArgumentTypeError,
  TTA_ERROR_CODES,
  TtaError,
  abortError,
  describe as describeValue,
  described,
  errorMessage,
  invalidParameterError,
  isPlainObject,
  isTtaError,
  outOfRangeError,
  throwIfAborted,
} from '../src';

describe('argument errors', () => {
  test('name the parameter, the expectation and what was received, in sharp style', () => {
    const error = invalidParameterError('options.fill', "one of 'constant', 'nearest'", 'mirror');
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(ArgumentTypeError);
    expect(error.code).toBe('TTA_INVALID_ARGUMENT');
    expect(error.message).toBe(
      "Expected one of 'constant', 'nearest' for options.fill but received 'mirror' of type string",
    );
    const range = outOfRangeError('views[1].dx', 'an integer', 0.5);
    expect(range).toBeInstanceOf(RangeError);
    expect(range).toBeInstanceOf(ArgumentRangeError);
    expect(range.code).toBe('TTA_OUT_OF_RANGE');
    expect(range.message).toBe('Expected an integer for views[1].dx but received 0.5 of type number');
  });

  test('accept a ready-made description instead of a value', () => {
    expect(outOfRangeError('images', 'images of 32x32x3', described('16x16x3 images')).message).toBe(
      'Expected images of 32x32x3 for images but received 16x16x3 images',
    );
  });

  test.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['x'.repeat(50), `'${'x'.repeat(40)}...' of type string`],
    [3n, '3 of type bigint'],
    [true, 'true of type boolean'],
    [new Float32Array(3), 'Float32Array of length 3'],
    [new DataView(new ArrayBuffer(5)), 'DataView of length 5'],
    [[1, 2], 'Array of length 2'],
    [{ shape: [2, 3], dtype: 'float32' }, 'a float32 tensor of shape [2,3]'],
    [() => 1, 'a function'],
    [new Map(), 'Map object'],
    [Object.create(null), 'Object object'],
  ])('describe(%p) is %p', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe('TtaError', () => {
  test('carries a stable code and a cause, and is recognised by class or by code', () => {
    const cause = new Error('EACCES');
    const error = new TtaError('TTA_IO', 'Cannot write out.json', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('TTA_IO');
    expect(error.cause).toBe(cause);
    expect(isTtaError(error)).toBe(true);
    expect(isTtaError(error, 'TTA_IO')).toBe(true);
    expect(isTtaError(error, 'TTA_USAGE')).toBe(false);
    expect(isTtaError(invalidParameterError('x', 'y', 1))).toBe(true);
    expect(isTtaError(outOfRangeError('x', 'y', 1), 'TTA_OUT_OF_RANGE')).toBe(true);
  });

  test('foreign errors are not tta errors, even with a code or an "Expected" message', () => {
    const errno = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(isTtaError(errno)).toBe(false);
    expect(isTtaError(new TypeError('Expected a for b but received c'))).toBe(false);
    expect(isTtaError({ code: 'TTA_IO', message: 'not an Error' })).toBe(false);
    expect(isTtaError('TTA_IO')).toBe(false);
  });

  test('every code is distinct and prefixed', () => {
    expect(new Set(TTA_ERROR_CODES).size).toBe(TTA_ERROR_CODES.length);
    for (const code of TTA_ERROR_CODES) expect(code).toMatch(/^TTA_[A-Z_]+$/);
  });

  test('abortError is an AbortError with code TTA_ABORTED; throwIfAborted throws it only once aborted', () => {
    const error = abortError();
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('TTA_ABORTED');
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(
      expect.objectContaining({ name: 'AbortError', code: 'TTA_ABORTED' }),
    );
  });

  test('errorMessage and isPlainObject', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(42)).toBe('42');
    expect(isPlainObject({})).toBe(true);
    for (const value of [null, [], new Uint8Array(1), 'x', 1]) expect(isPlainObject(value)).toBe(false);
  });
});
