package app

import (
	"sync"
	"time"

	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// campaignCacheTTL is how long a replica decides member commands with its cached copy of a
// campaign before reading the log again. Every response needs its campaign's status set and a
// bulk call thousands of them; changes made through this replica are seen at once.
const campaignCacheTTL = 2 * time.Second

// campaignCache keeps recently used campaigns per tenant and id.
type campaignCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[2]string]cachedCampaign
}

type cachedCampaign struct {
	c  campaign.Campaign
	at time.Time
}

func newCampaignCache(ttl time.Duration) *campaignCache {
	return &campaignCache{ttl: ttl, entries: map[[2]string]cachedCampaign{}}
}

func (k *campaignCache) get(tenant, id string) (campaign.Campaign, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[[2]string{tenant, id}]
	if !ok || time.Since(e.at) >= k.ttl {
		return campaign.Campaign{}, false
	}
	return e.c, true
}

func (k *campaignCache) put(tenant string, c campaign.Campaign) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.entries) > 10_000 {
		clear(k.entries) // a crude bound: entries are cheap to reload
	}
	k.entries[[2]string{tenant, c.ID}] = cachedCampaign{c: c, at: time.Now()}
}
