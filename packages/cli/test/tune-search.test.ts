import { searchFamilies } from '../src/tune';

describe('tta tune --search and --zooms', () => {
  test('left out, the tuner decides from the image size', () => {
    expect(searchFamilies(undefined, undefined)).toEqual({});
  });

  test('families are added on top of the automatic ones; none turns those off', () => {
    expect(searchFamilies('d4', undefined)).toEqual({ d4: true });
    expect(searchFamilies('crops,zooms', undefined)).toEqual({ crops: true, zooms: [0.9, 1.1] });
    expect(searchFamilies('none', undefined)).toEqual({ crops: false, zooms: [] });
    expect(searchFamilies(undefined, '0.8,1.25')).toEqual({ zooms: [0.8, 1.25] });
    expect(searchFamilies('d4,zooms', '1.2')).toEqual({ zooms: [1.2], d4: true });
  });

  test('bad values name the flag', () => {
    expect(() => searchFamilies('d8', undefined)).toThrow(/--search: unknown 'd8'/);
    expect(() => searchFamilies(undefined, '0')).toThrow(/--zooms expects zoom factors .* got '0'/);
    expect(() => searchFamilies('none,crops', undefined)).toThrow(/cannot go with crops/);
  });
});
