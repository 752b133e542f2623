package apikey

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultVerifyCacheTTL is how long a Store trusts a key it verified
// without asking the database again: the longest a key revoked by another
// process (checkoutd keys revoke, another replica) keeps working here.
// Revoking through the same Store takes effect at once.
const DefaultVerifyCacheTTL = time.Second

// maxCachedKeys bounds the cache; when full it starts over, which costs a
// lookup per key, never a wrong answer.
const maxCachedKeys = 10_000

// verifiedKeys remembers keys that verified, by the SHA-256 of the whole
// token (the token itself, a secret, is not kept), so that an edge worker
// sending the same key on every cart costs one lookup per TTL instead of
// one per request. Keys that failed are not kept: a wrong key always asks
// the database.
type verifiedKeys struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	keys map[[sha256.Size]byte]verifiedKey
}

type verifiedKey struct {
	shopID, keyID string
	until         time.Time
}

func newVerifiedKeys(ttl time.Duration) *verifiedKeys {
	return &verifiedKeys{ttl: ttl, now: time.Now, keys: map[[sha256.Size]byte]verifiedKey{}}
}

// get returns the key token verified as, if it did within the TTL.
func (c *verifiedKeys) get(token string) (verifiedKey, bool) {
	if c.ttl <= 0 {
		return verifiedKey{}, false
	}
	sum := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[sum]
	if !ok || !c.now().Before(k.until) {
		return verifiedKey{}, false
	}
	return k, true
}

// put remembers that token verified as shopID's key keyID.
func (c *verifiedKeys) put(token, shopID, keyID string) {
	if c.ttl <= 0 {
		return
	}
	sum := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[sum] = verifiedKey{shopID: shopID, keyID: keyID, until: c.now().Add(c.ttl)}
}

// forget drops shopID's key keyID, once it is revoked.
func (c *verifiedKeys) forget(shopID, keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sum, k := range c.keys {
		if k.shopID == shopID && k.keyID == keyID {
			delete(c.keys, sum)
		}
	}
}
