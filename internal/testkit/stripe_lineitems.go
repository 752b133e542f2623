package testkit

import (
	"fmt"
	"maps"
	"slices"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/checkout/session"
	"github.com/stripe/stripe-go/v79/form"
)

// lineItems are the line items Stripe makes of p's lines, each priced
// inline or by id, with the product (and its metadata) expanded.
func lineItems(sessionID string, p *stripe.CheckoutSessionParams) []*stripe.LineItem {
	items := make([]*stripe.LineItem, len(p.LineItems))
	for i, li := range p.LineItems {
		item := &stripe.LineItem{
			ID: fmt.Sprintf("li_%s_%d", sessionID, i), Object: "item", Quantity: deref(li.Quantity),
			Price: &stripe.Price{ID: deref(li.Price), Product: &stripe.Product{ID: fmt.Sprintf("prod_%s_%d", sessionID, i)}},
		}
		if pd := li.PriceData; pd != nil {
			item.Price.ID = fmt.Sprintf("price_inline_%s_%d", sessionID, i)
			item.Price.UnitAmount = deref(pd.UnitAmount)
			item.Price.Currency = stripe.Currency(deref(pd.Currency))
			if prod := pd.ProductData; prod != nil {
				item.Price.Product.Name = deref(prod.Name)
				item.Price.Product.Metadata = maps.Clone(prod.Metadata)
			}
		}
		items[i] = item
	}
	return items
}

// ListLineItems lists a session's line items with the quantities the
// customer picked (SetQuantity), a page per request: Stripe's iterator
// asks for the next one after the last item it got. Each page request
// counts as a listing (LineItemListings) and fails with FailLineItems'
// error while one is set.
func (s *FakeStripe) ListLineItems(params *stripe.CheckoutSessionListLineItemsParams) *session.LineItemIter {
	expanded := false
	for _, e := range params.Expand {
		expanded = expanded || deref(e) == "data.price.product"
	}
	return &session.LineItemIter{Iter: stripe.GetIter(params, func(_ *stripe.Params, values *form.Values) ([]interface{}, stripe.ListContainer, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		id := deref(params.Session)
		s.listings[id]++
		list := &stripe.LineItemList{}
		if err := s.itemsErr[id]; err != nil {
			return nil, list, err
		}
		items, ok := s.items[id]
		if !ok {
			return nil, list, missing(id)
		}
		start := 0
		if after := values.Get("starting_after"); len(after) > 0 {
			start = slices.IndexFunc(items, func(it *stripe.LineItem) bool { return it.ID == after[0] }) + 1
		}
		end := len(items)
		if n := s.pageLimit(params.Limit); start+n < end {
			end, list.HasMore = start+n, true
		}
		out := make([]interface{}, 0, end-start)
		for _, it := range items[start:end] {
			c := *it
			price := *it.Price
			if !expanded {
				price.Product = &stripe.Product{ID: price.Product.ID}
			}
			c.Price = &price
			out = append(out, &c)
		}
		return out, list, nil
	})}
}

// pageLimit is how many line items one page lists: the request's limit
// (Stripe's default 10), or PageLineItems' size when smaller.
func (s *FakeStripe) pageLimit(limit *int64) int {
	n := 10
	if limit != nil {
		n = int(*limit)
	}
	if s.pageSize > 0 && s.pageSize < n {
		n = s.pageSize
	}
	return n
}

// PageLineItems makes every page of line items at most n long, so that a
// session of a few lines takes several requests to list.
func (s *FakeStripe) PageLineItems(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// LineItemListings is how many pages of id's line items were asked for.
func (s *FakeStripe) LineItemListings(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listings[id]
}

// SetQuantity records that the customer changed line i of session id to
// quantity on Stripe's page; quantity 0 removes the line, as Stripe lists
// only what was bought.
func (s *FakeStripe) SetQuantity(id string, i int, quantity int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := s.items[id]
	if quantity == 0 {
		s.items[id] = append(items[:i:i], items[i+1:]...)
		return
	}
	c := *items[i]
	c.Quantity = quantity
	items[i] = &c
}

// AddLineItem adds a line item to session id that checkoutd did not ask
// for (a product of the shop's own, say), listed after the others.
func (s *FakeStripe) AddLineItem(id string, item stripe.LineItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if item.Price == nil {
		item.Price = &stripe.Price{}
	}
	if item.Price.Product == nil {
		item.Price.Product = &stripe.Product{}
	}
	s.items[id] = append(s.items[id], &item)
}

// FailLineItems makes every listing of id's line items fail with err (nil
// lets it succeed again).
func (s *FakeStripe) FailLineItems(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemsErr[id] = err
}
