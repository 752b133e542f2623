package availability

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/checkoutd/checkoutd/inventory"
)

// Item is one stock line as a storefront may show it. Its JSON is exactly
// the public item of the API: sku, variantKey, available, lowStock,
// backorderAllowed. The line's on-hand and reserved units ride along in
// unexported fields, so no encoding of an Item can reveal them; Private
// returns them for the shop's own stream.
type Item struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// Available is on hand - reserved - safety stock, never below 0; holds
	// whose expiry has passed do not count as reserved.
	Available int64 `json:"available"`
	// LowStock is whether Available is at or below the line's low-stock
	// threshold.
	LowStock bool `json:"lowStock"`
	// BackorderAllowed is whether the line may be sold past its stock.
	BackorderAllowed bool `json:"backorderAllowed"`

	onHand   int64
	reserved int64
}

// PrivateItem is an Item with the units behind it, for the shop's own
// authenticated stream only. Its JSON adds onHand and reserved to the
// public fields.
type PrivateItem struct {
	Item
	OnHand   int64 `json:"onHand"`
	Reserved int64 `json:"reserved"`
}

// Private returns the item with its on-hand and reserved units.
func (it Item) Private() PrivateItem {
	return PrivateItem{Item: it, OnHand: it.onHand, Reserved: it.reserved}
}

func itemOf(s inventory.LineStock) Item {
	return Item{
		SKU:              s.SKU,
		VariantKey:       s.VariantKey,
		Available:        s.Available,
		LowStock:         s.LowStock,
		BackorderAllowed: s.BackorderAllowed,
		onHand:           s.OnHand,
		reserved:         s.Reserved,
	}
}

// ETag returns a strong entity tag (quoted, as the header carries it) for a
// response listing items in this order. It is derived from the public
// fields only, so it changes exactly when what a storefront sees changes,
// and costs a hash of a few bytes per item.
func ETag(items []Item) string {
	h := sha256.New()
	var num [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(num[:], uint64(len(s)))
		h.Write(num[:])
		h.Write([]byte(s))
	}
	for _, it := range items {
		field(it.SKU)
		field(it.VariantKey)
		binary.BigEndian.PutUint64(num[:], uint64(it.Available))
		h.Write(num[:])
		var flags byte
		if it.LowStock {
			flags |= 1
		}
		if it.BackorderAllowed {
			flags |= 2
		}
		h.Write([]byte{flags})
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}
