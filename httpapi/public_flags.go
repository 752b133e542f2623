package httpapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// Bounds of the publicAvailability cache.
const (
	// publicFlagTTL is how long a shop's publicAvailability is believed
	// without asking the database again. It is the public answers'
	// max-age: a CDN or browser may show an answer that long after the shop
	// turned its stock private anyway, so remembering the setting as long
	// adds no new window. A PATCH through this process takes effect here
	// at once (forget); through another replica, within publicFlagTTL.
	publicFlagTTL = time.Second
	// maxPublicFlags bounds the shops remembered, unknown ids included, so
	// that requests naming random shops cannot grow it.
	maxPublicFlags = 10_000
)

// publicFlags remembers which shops show their stock publicly.
type publicFlags struct {
	ledger *inventory.Ledger

	mu    sync.Mutex
	flags map[string]publicFlag
	// forgets counts forget calls: a read that began before one may have
	// read the old setting, and is not remembered.
	forgets uint64
}

type publicFlag struct {
	public bool
	at     time.Time
}

func newPublicFlags(ledger *inventory.Ledger) *publicFlags {
	return &publicFlags{ledger: ledger, flags: map[string]publicFlag{}}
}

// public reports whether shopID exists and has publicAvailability on; an
// unknown shop is simply false, so that both answer alike.
func (p *publicFlags) public(ctx context.Context, shopID string) (bool, error) {
	now := time.Now()
	p.mu.Lock()
	f, ok := p.flags[shopID]
	forgets := p.forgets
	p.mu.Unlock()
	if ok && now.Sub(f.at) < publicFlagTTL {
		return f.public, nil
	}
	shop, err := p.ledger.GetShop(ctx, shopID)
	public := false
	switch {
	case err == nil:
		public = shop.PublicAvailability
	case errors.Is(err, checkoutd.ErrShopNotFound):
	default:
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.forgets != forgets {
		return public, nil
	}
	if len(p.flags) >= maxPublicFlags {
		for id, f := range p.flags {
			if now.Sub(f.at) >= publicFlagTTL {
				delete(p.flags, id)
			}
		}
		if len(p.flags) >= maxPublicFlags {
			clear(p.flags)
		}
	}
	p.flags[shopID] = publicFlag{public: public, at: now}
	return public, nil
}

// forget makes the next request about shopID ask the database: its
// settings changed through this process.
func (p *publicFlags) forget(shopID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.flags, shopID)
	p.forgets++
}
