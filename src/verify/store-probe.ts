/**
 * Before a re-audit changes anything: is this the store the catalog's objects are in? A verify
 * pointed at the wrong folder found 748 of 748 objects "missing" and sent 400 verified faxes back to
 * `listed` (issue 17 §1). The objects are looked at in catalog order (HEAD only) until one is found,
 * which in a right store is the first; when not one is there, the store is refused with one line and
 * nothing is recorded. A store that lost some objects is audited as usual: that is what verify is for.
 */
import type { Catalog } from '../catalog/catalog.js';
import { ConfigurationError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';

const AUDITED_STATES = new Set(['stored', 'verified', 'metadata-only', 'deleted']);

export class WrongStoreError extends ConfigurationError {}

/** Throws WrongStoreError when the catalog names objects and the store holds none of them. */
export async function assertStoreHoldsArchive(catalog: Catalog, store: MediaStore): Promise<void> {
  let looked = 0;
  let firstKey: string | null = null;
  for (const row of catalog.iterateFaxes(500)) {
    if (!AUDITED_STATES.has(row.state)) continue;
    for (const object of row.objects) {
      firstKey ??= object.key;
      looked++;
      if ((await store.head(object.key)) !== null) return;
    }
  }
  if (looked === 0) return;
  throw new WrongStoreError(
    `not one of the ${looked} objects the catalog ${catalog.path} lists is in the store ${store.displayUrl} (first: ${firstKey}): ` +
      'the store is probably wrong (check --store, --s3-endpoint); nothing was changed (if every object really is gone, restore the store from its backup first)',
  );
}
