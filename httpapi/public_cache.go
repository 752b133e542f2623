package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/checkoutd/checkoutd/availability"
)

// Bounds of the public answers' cache.
const (
	// defaultCacheEntries is PublicConfig.CacheEntries' default: answers
	// kept at once, over all shops, at a few hundred bytes to a few KiB each.
	defaultCacheEntries = 10_000
	// cacheMaxAge is a backstop only: answers are dropped as soon as the
	// Feed reports a change of one of their lines, and this bounds the harm
	// should the Feed ever stall without ending.
	cacheMaxAge = 10 * time.Second
	// cacheIdle is how long a shop's cache and its subscription live
	// without a request.
	cacheIdle = time.Minute
)

// answer is a public availability answer, ready to send.
type answer struct {
	body []byte
	etag string
}

// encodeAnswer encodes items as the public availability body.
func encodeAnswer(items []availability.Item) (*answer, error) {
	if items == nil {
		items = []availability.Item{}
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(map[string]any{"items": items}); err != nil {
		return nil, err
	}
	return &answer{body: b.Bytes(), etag: availability.ETag(items)}, nil
}

// answerCache keeps public availability answers per (shop, set of SKUs),
// exact to within the Feed's latency: each cached shop has one whole-shop
// subscription of the Feed (one, whatever the number of its SKU sets), and
// every change it reports drops the answers showing that SKU. A change
// committed before an answer was read is seen by the read, one committed
// after reaches the subscription, which was open before the read began.
//
// Without a Feed (STOCK_NOTIFY=0), or when it refuses a subscription
// (full, stopped), answers are read from the database every time.
type answerCache struct {
	feed       *availability.Feed
	reader     *availability.Reader
	maxEntries int

	mu      sync.Mutex
	shops   map[string]*shopAnswers
	entries int
}

// shopAnswers are one shop's cached answers and the subscription that
// invalidates them.
type shopAnswers struct {
	sub   *availability.Subscription
	byKey map[string]*cachedAnswer
	bySKU map[string]map[*cachedAnswer]struct{}
	used  bool
}

// cachedAnswer is an answer being read (done open) or read.
type cachedAnswer struct {
	key  string
	skus []string
	at   time.Time
	done chan struct{}
	// ans and err are set before done is closed.
	ans *answer
	err error
}

func newAnswerCache(feed *availability.Feed, reader *availability.Reader, maxEntries int) *answerCache {
	if maxEntries <= 0 {
		maxEntries = defaultCacheEntries
	}
	return &answerCache{feed: feed, reader: reader, maxEntries: maxEntries, shops: map[string]*shopAnswers{}}
}

// get returns the answer for skus (valid, sorted, without repeats) of shop.
func (c *answerCache) get(ctx context.Context, shopID string, skus []string) (*answer, error) {
	if c.feed == nil {
		return c.read(ctx, shopID, skus)
	}
	key := strings.Join(skus, "\x00")
	c.mu.Lock()
	s := c.shops[shopID]
	if s == nil {
		if s = c.open(shopID); s == nil {
			c.mu.Unlock()
			return c.read(ctx, shopID, skus)
		}
	}
	s.used = true
	if e := s.byKey[key]; e != nil && time.Since(e.at) < cacheMaxAge {
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.ans, nil
		}
		return c.read(ctx, shopID, skus)
	}
	e := &cachedAnswer{key: key, skus: skus, at: time.Now(), done: make(chan struct{})}
	c.add(s, e)
	c.mu.Unlock()

	ans, err := c.read(ctx, shopID, skus)
	c.mu.Lock()
	e.ans, e.err = ans, err
	if err != nil {
		c.remove(s, e)
	}
	close(e.done)
	c.mu.Unlock()
	return ans, err
}

// read reads the answer from the database.
func (c *answerCache) read(ctx context.Context, shopID string, skus []string) (*answer, error) {
	items, err := c.reader.Items(ctx, shopID, skus)
	if err != nil {
		return nil, err
	}
	return encodeAnswer(items)
}

// open subscribes to shopID's changes and starts dropping its answers as
// they come; nil when the Feed will not have another subscription. It is
// called with c.mu held.
func (c *answerCache) open(shopID string) *shopAnswers {
	sub, err := c.feed.Subscribe(context.Background(), shopID, nil)
	if err != nil {
		return nil
	}
	s := &shopAnswers{sub: sub, byKey: map[string]*cachedAnswer{}, bySKU: map[string]map[*cachedAnswer]struct{}{}}
	c.shops[shopID] = s
	go c.follow(shopID, s)
	return s
}

// follow drops the shop's answers its subscription reports changed, until
// the subscription ends or the shop goes a cacheIdle without requests.
func (c *answerCache) follow(shopID string, s *shopAnswers) {
	idle := time.NewTicker(cacheIdle)
	defer idle.Stop()
	defer s.sub.Close()
	for {
		select {
		case <-s.sub.Ready():
			changes := s.sub.Take()
			c.mu.Lock()
			for _, ch := range changes {
				for e := range s.bySKU[ch.Item.SKU] {
					c.remove(s, e)
				}
			}
			c.mu.Unlock()
		case <-s.sub.Done():
			c.drop(shopID, s)
			return
		case <-idle.C:
			c.mu.Lock()
			used := s.used
			s.used = false
			c.mu.Unlock()
			if !used {
				c.drop(shopID, s)
				return
			}
		}
	}
}

// drop forgets a shop's answers: nothing invalidates them any more.
func (c *answerCache) drop(shopID string, s *shopAnswers) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shops[shopID] == s {
		delete(c.shops, shopID)
	}
	c.entries -= len(s.byKey)
	s.byKey, s.bySKU = map[string]*cachedAnswer{}, map[string]map[*cachedAnswer]struct{}{}
}

// add indexes e, replacing an answer for the same SKUs, and makes room
// for it. It is called with c.mu held.
func (c *answerCache) add(s *shopAnswers, e *cachedAnswer) {
	if old := s.byKey[e.key]; old != nil {
		c.remove(s, old)
	}
	for c.entries >= c.maxEntries && c.evictOne() {
	}
	s.byKey[e.key] = e
	for _, sku := range e.skus {
		set := s.bySKU[sku]
		if set == nil {
			set = map[*cachedAnswer]struct{}{}
			s.bySKU[sku] = set
		}
		set[e] = struct{}{}
	}
	c.entries++
}

// remove unindexes e if it is still indexed. It is called with c.mu held.
func (c *answerCache) remove(s *shopAnswers, e *cachedAnswer) {
	if s.byKey[e.key] != e {
		return
	}
	delete(s.byKey, e.key)
	for _, sku := range e.skus {
		delete(s.bySKU[sku], e)
		if len(s.bySKU[sku]) == 0 {
			delete(s.bySKU, sku)
		}
	}
	c.entries--
}

// evictOne removes some answer, the map's choice; false when none is
// left. It is called with c.mu held.
func (c *answerCache) evictOne() bool {
	for _, s := range c.shops {
		for _, e := range s.byKey {
			c.remove(s, e)
			return true
		}
	}
	return false
}
