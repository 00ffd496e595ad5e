// @tta/native's helpers describe a received value; these take a ready-made
// description (e.g. "16x16x3 images") in the same "Expected X for name but received Y" style.
export function describedTypeError(name: string, expected: string, received: string): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${received}`);
}

export function describedRangeError(name: string, expected: string, received: string): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${received}`);
}
