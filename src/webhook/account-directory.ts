/**
 * Which account a webhook belongs to: the one account directory (src/twilio/account-directory.ts),
 * shared with archive/sync and numbers. Kept as this module so the webhook's imports stay put.
 */
export {
  createAccountDirectory,
  type AccountDirectory,
  type AccountDirectoryOptions,
} from '../twilio/account-directory.js';
