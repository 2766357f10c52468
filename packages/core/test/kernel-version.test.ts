import { describe, expect, it } from 'vitest';
import { GENERIC_CONFIG, kernelAtLeast, ModelError } from '../src/index.js';

describe('kernelAtLeast()', () => {
  const at = (kernel: string) => ({ ...GENERIC_CONFIG, kernel });
  it('compares releases numerically, not as strings', () => {
    expect(kernelAtLeast(at('v6.14'), 'v6.14')).toBe(true);
    expect(kernelAtLeast(at('v6.14'), 'v6.6')).toBe(true);
    expect(kernelAtLeast(at('v6.6'), 'v6.14')).toBe(false);
    expect(kernelAtLeast(at('v7.0'), 'v6.14')).toBe(true);
  });
  it('names a release it cannot read', () => {
    expect(() => kernelAtLeast(at('6.6'), 'v6.14')).toThrow(ModelError);
    expect(() => kernelAtLeast(at('v6.6'), 'latest')).toThrow(/"latest" is not of the form/);
  });
});
