package checkoutd_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/checkoutd/checkoutd"
)

// Shop and location ids are lowercase slugs; a request with any other is
// refused before it reaches the database.
func ExampleValidShopID() {
	for _, id := range []string{"acme", "acme-eu_2", "Acme", "-acme", ""} {
		fmt.Printf("%-11q %v\n", id, checkoutd.ValidShopID(id))
	}
	// Output:
	// "acme"      true
	// "acme-eu_2" true
	// "Acme"      false
	// "-acme"     false
	// ""          false
}

// A stock line is a SKU and a variant key; the key may be empty for a
// product without variants.
func ExampleValidVariantKey() {
	fmt.Println(checkoutd.ValidSKU("SHIRT-01/blue"), checkoutd.ValidSKU("shirt 01"))
	fmt.Println(checkoutd.ValidVariantKey(""), checkoutd.ValidVariantKey("size:M,colour:ü"), checkoutd.ValidVariantKey("size:\tM"))
	// Output:
	// true false
	// true true false
}

// Every layer reports a malformed request the same way: one FieldIssue per
// wrong field, all at once, which the HTTP API sends as 400
// invalid_request's details.
func ExampleValidationError() {
	var issues []checkoutd.FieldIssue
	if !checkoutd.ValidShopID("Acme") {
		issues = append(issues, checkoutd.FieldIssue{Field: "shopId", Issue: checkoutd.IDIssue})
	}
	if !checkoutd.ValidSKU("shirt 01") {
		issues = append(issues, checkoutd.FieldIssue{Field: "items[0].sku", Issue: checkoutd.SKUIssue})
	}
	err := fmt.Errorf("create hold: %w", &checkoutd.ValidationError{Details: issues})

	var invalid *checkoutd.ValidationError
	if errors.As(err, &invalid) {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(invalid.Details)
	}
	fmt.Println(err)
	// Output:
	// [{"field":"shopId","issue":"must match ^[a-z0-9][a-z0-9_-]{0,63}$"},{"field":"items[0].sku","issue":"must be 1-64 characters from A-Z a-z 0-9 . _ : / -"}]
	// create hold: invalid request: shopId: must match ^[a-z0-9][a-z0-9_-]{0,63}$; items[0].sku: must be 1-64 characters from A-Z a-z 0-9 . _ : / -
}
