package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The walk-through checkoutd dev prints lies between these lines. The
// README shows it as printed with the defaults (TestREADMEWalkthrough), and
// scripts/walkthrough runs it from the banner, so all three say the same.
const (
	walkthroughStart = "# --- walk-through: paste into another terminal, in this directory ---"
	walkthroughEnd   = "# --- end of walk-through ---"
)

// walkthrough is the guided tour of a checkout in reserve_ttl: stock, a
// checkout that holds it, the hold, the payment event, the committed hold,
// the stock gone down and a clean ledger.
type walkthrough struct {
	// base is the server's URL, e.g. http://localhost:8080.
	base string
	// token is the service token.
	token string
	// bin is how to run checkoutd, e.g. bin/checkoutd.
	bin string
	// runDir is checkoutd dev's run directory, which holds its env file.
	runDir string
}

// script returns the walk-through's shell lines.
func (w walkthrough) script() string {
	envFile := filepath.Join(w.runDir, "env")
	lines := []string{
		fmt.Sprintf("BASE=%s AUTH='Authorization: Bearer %s'", w.base, w.token),
		"# 1. The mug's stock: note onHand and reserved",
		`curl -s -H "$AUTH" $BASE/api/inventory/shops/` + devShop + `/stock/MUG-LOGO`,
		"# 2. Check out one mug: in reserve_ttl the checkout holds it first",
		`CHECKOUT=$(curl -s -H "$AUTH" -H 'Content-Type: application/json' $BASE/api/checkout/sessions \`,
		`  -d '{"shopId":"` + devShop + `","mode":"sale","items":[{"sku":"MUG-LOGO","quantity":1,"name":"Mug","unitAmount":1200,"currency":"eur"}],"successUrl":"https://shop.example/ok","cancelUrl":"https://shop.example/cart"}')`,
		`echo "$CHECKOUT"`,
		`SESSION=$(echo "$CHECKOUT" | grep -o '"id":"cs_[^"]*"' | cut -d'"' -f4)`,
		`HOLD=$(echo "$CHECKOUT" | grep -o '"reservationId":"hold_[^"]*"' | cut -d'"' -f4)`,
		"# 3. The hold: status active, the mug reserved until expiresAt",
		`curl -s -H "$AUTH" $BASE/api/inventory/shops/` + devShop + `/holds/$HOLD`,
		"# 4. Pay: send the signed event Stripe sends when the customer has paid",
		fmt.Sprintf(`%s --env-file %s stripe send-event --type checkout.session.completed --session "$SESSION" --url $BASE/webhooks/stripe`, w.bin, envFile),
		"# 5. The hold is committed, and the stock went down: onHand one less, nothing reserved",
		`curl -s -H "$AUTH" $BASE/api/inventory/shops/` + devShop + `/holds/$HOLD`,
		`curl -s -H "$AUTH" $BASE/api/inventory/shops/` + devShop + `/stock/MUG-LOGO`,
		"# 6. Every stock row adds up",
		fmt.Sprintf("%s --env-file %s ledger check --shop %s", w.bin, envFile, devShop),
	}
	return strings.Join(lines, "\n") + "\n"
}

// readmeWalkthrough is the walk-through as the README shows it: what make
// dev prints with the default settings.
func readmeWalkthrough() string {
	return walkthrough{base: baseURL(":8080"), token: devToken, bin: "bin/checkoutd", runDir: devRunDir}.script()
}
