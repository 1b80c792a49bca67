/**
 * The store a records command reads from: the one the catalog recorded (catalog_identity, with its
 * S3 endpoint) unless --store (or FAX_SUNSET_STORE) names another, such as a replica bucket after
 * the primary was lost. Reading from another store is allowed here (every byte is checked against
 * the catalog's SHA-256 anyway); the store actually used is what the disclosure records.
 */
import { Command } from 'commander';
import { readCatalogIdentity } from '../catalog/catalog-identity.js';
import type { MediaStore } from '../store/media-store.js';
import { openMediaStore } from '../store/open-media-store.js';

export function storeGiven(command: Command): boolean {
  const source = command.getOptionValueSource('store');
  return source === 'cli' || source === 'env';
}

export function openRecordedStore(catalogPath: string, flags: { store: string; storeGiven: boolean }): MediaStore {
  const recorded = readCatalogIdentity(catalogPath);
  const useRecorded = recorded !== null && !flags.storeGiven;
  const endpoint = useRecorded && !process.env.AWS_ENDPOINT_URL_S3 ? recorded.storeEndpoint : null;
  return openMediaStore(useRecorded ? recorded.store : flags.store, endpoint ? { endpoint } : {});
}
