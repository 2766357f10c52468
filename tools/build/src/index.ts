export {
  DelegationError,
  flattenDelegation,
  flattenDelegationPlugin,
  rewritesFile,
} from './flatten-delegation.js';
