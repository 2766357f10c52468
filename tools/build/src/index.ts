export {
  DelegationError,
  flattenDelegation,
  flattenDelegationPlugin,
} from './flatten-delegation.js';
