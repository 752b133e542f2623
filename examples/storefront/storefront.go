// Package storefront is the storefront example's files (index.html,
// storefront.js, storefront.css), embedded so that checkoutd dev can serve
// them from anywhere. The page itself is plain HTML and JavaScript with no
// build step: open it from any static server, pointing it at a checkoutd
// with ?api=.
package storefront

import (
	"embed"
	"net/http"
)

//go:embed index.html storefront.js storefront.css
var files embed.FS

// Handler serves the example's files at the root of its path; mount it
// with http.StripPrefix.
func Handler() http.Handler {
	return http.FileServerFS(files)
}
