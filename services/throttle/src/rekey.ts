import { QueuedMessageCodec, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import type { SiteResolver } from './site.ts';

/**
 * Per-site ownership (MTA_THROTTLE_OWNERSHIP=site): mta.queue is keyed by recipient domain, so
 * domains of one site (every Google Workspace domain) land on different throttle instances, each
 * applying the site's full limit. This hop resolves the site (MX set) and re-keys the record by
 * it onto the throttle's own topic (mta.queue.site); the lanes' stage consumes that topic, so all
 * of a site's messages reach one instance and its limits hold across instances. The record's
 * bytes are forwarded unchanged.
 */
export function createRekeyHandler(deps: { topics: Pick<Topics, 'siteQueue' | 'deadLetter'>; sites: Pick<SiteResolver, 'resolve'> }): Handler {
  return async (rec) => {
    const d = QueuedMessageCodec.decode(rec.value);
    if (!d.ok) return [deadLetter(deps.topics.deadLetter, 'throttle', rec, d.error)];
    const site = await deps.sites.resolve(d.value.recipientDomain);
    return [{ topic: deps.topics.siteQueue, key: site.site, value: rec.value! }];
  };
}
