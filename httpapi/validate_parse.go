package httpapi

import "github.com/checkoutd/checkoutd/inventory"

// parsePlain parses the usual validate body by hand, into req only when
// it returns true: an object of "shopId" and "items", each at most once,
// items an array of objects of "sku", "variantKey" and "quantity", each at
// most once, strings without escapes and quantities plain integers. For
// such a body encoding/json gives the same value, after a reflective walk
// that cost an edge worker's validation more than its query did; anything
// else (an escape, null, a fraction, a repeated or unknown key) says
// false, and decode takes its usual path, which answers every body.
func (req *validateRequest) parsePlain(body []byte) bool {
	p := plainParser{b: body}
	var out validateRequest
	var seenShop, seenItems bool
	ok := p.object(func(key []byte) bool {
		switch {
		case string(key) == "shopId" && !seenShop:
			seenShop = true
			s, ok := p.str()
			out.ShopID = s
			return ok
		case string(key) == "items" && !seenItems:
			seenItems = true
			out.Items = []inventory.Line{}
			return p.array(func() bool {
				l, ok := p.line()
				out.Items = append(out.Items, l)
				return ok
			})
		}
		return false
	})
	if !ok || !p.end() {
		return false
	}
	*req = out
	return true
}

// plainParser reads the plain subset of JSON parsePlain accepts.
type plainParser struct {
	b []byte
	i int
}

func (p *plainParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips whitespace and consumes c if it comes next.
func (p *plainParser) next(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports that nothing but whitespace is left.
func (p *plainParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// object reads an object, calling member for each key with the reader on
// its value.
func (p *plainParser) object(member func(key []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		key, ok := p.raw()
		if !ok || !p.next(':') || !member(key) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem with the reader on each element.
func (p *plainParser) array(elem func() bool) bool {
	if !p.next('[') {
		return false
	}
	if p.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.next(']') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// raw reads a string without escapes or control characters, which is its
// bytes as they stand; decode has checked the body is valid UTF-8.
func (p *plainParser) raw() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (p *plainParser) str() (string, bool) {
	s, ok := p.raw()
	return string(s), ok
}

// int reads an integer of at most 18 digits, so that it fits an int64,
// in JSON's form: no leading zeros, no plus sign, no fraction or exponent.
func (p *plainParser) int() (int64, bool) {
	p.space()
	neg := p.i < len(p.b) && p.b[p.i] == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') {
		return 0, false
	}
	if p.i < len(p.b) {
		if c := p.b[p.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// line reads one item of a validate body.
func (p *plainParser) line() (inventory.Line, bool) {
	var l inventory.Line
	var seenSKU, seenVariant, seenQuantity bool
	ok := p.object(func(key []byte) bool {
		var ok bool
		switch {
		case string(key) == "sku" && !seenSKU:
			seenSKU = true
			l.SKU, ok = p.str()
		case string(key) == "variantKey" && !seenVariant:
			seenVariant = true
			l.VariantKey, ok = p.str()
		case string(key) == "quantity" && !seenQuantity:
			seenQuantity = true
			l.Quantity, ok = p.int()
		}
		return ok
	})
	return l, ok
}
