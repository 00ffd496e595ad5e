// The flags that choose TTA policies, shared by tta eval and tta predict.
import { FILL_MODES, MERGE_MODES, type Fill, type Merge } from '@tta/native';
import { POLICY_NAMES, loadPolicyFile, makePolicy, resolvePolicy, type Policy, type PolicyOptions } from '@tta/core';
import { errorMessage } from '@tta/util';
import { choiceFlag, integerFlag, listFlag } from './args';
import { UserError } from './errors';

export const POLICY_FLAGS = {
  policies: { type: 'string' },
  policy: { type: 'string', multiple: true },
  'policy-file': { type: 'string', multiple: true },
  views: { type: 'string' },
  shift: { type: 'string' },
  fill: { type: 'string' },
  merge: { type: 'string' },
} as const;

export interface PolicyFlags {
  policies?: string;
  policy?: string[];
  'policy-file'?: string[];
  views?: string;
  shift?: string;
  fill?: string;
  merge?: string;
}

/**
 * The policies the flags name, in order: the named ones (`defaults` when none of the policy
 * flags is given), then each --policy spec, then each --policy-file.
 */
export function parsePolicyFlags(f: PolicyFlags, seed: number, defaults: readonly string[]): Policy[] {
  const options: PolicyOptions = {
    views: integerFlag('views', f.views, { min: 1, max: 1024 }),
    shift: integerFlag('shift', f.shift, { min: 1, max: 1024 }),
    seed,
    fill: choiceFlag<Fill>('fill', f.fill, FILL_MODES),
    merge: choiceFlag<Merge>('merge', f.merge, MERGE_MODES),
  };
  const names = listFlag('policies', f.policies, POLICY_NAMES) ?? (f.policy || f['policy-file'] ? [] : [...defaults]);
  const policies: Policy[] = names.map((name) => makePolicy(name, options));
  for (const spec of f.policy ?? []) {
    try {
      policies.push(resolvePolicy(spec, options));
    } catch (error) {
      throw new UserError(`--policy '${spec}': ${errorMessage(error)}`);
    }
  }
  for (const file of f['policy-file'] ?? []) {
    try {
      policies.push(loadPolicyFile(file));
    } catch (error) {
      throw new UserError(`--policy-file: ${errorMessage(error)}`);
    }
  }
  return policies;
}
