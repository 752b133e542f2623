// Package console is the ops console: server-rendered pages under
// /console/ where an operator sees and steers a shop's stock, holds and
// alerts in a browser. Like httpapi it is an adapter on top of the domain:
// handlers read the request, make the owners' calls (inventory.Ledger,
// checkout, webhooks, alerts, jobs) and render a template. Pages work
// without JavaScript; the little there is only adds to them.
//
// Sign-in is with a shop key (that shop only) or the service token (every
// shop, with a picker). The session is a signed cookie, so any replica
// accepts it; every form carries a CSRF token bound to the session, and
// every stock change records the console and the key in the movement
// ledger's createdBy.
package console

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/inventory"
)

//go:embed templates static
var assets embed.FS

// Config is what the console shows of the service's settings and how it
// signs its sessions.
type Config struct {
	// ServiceToken is INVENTORY_AUTHORITY_TOKEN: signing in with it opens a
	// session on every shop. Empty leaves shop keys only.
	ServiceToken string
	// SessionKey signs sessions and CSRF tokens (see SessionKey).
	SessionKey []byte
	// SessionTTL is how long a session lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// InventoryMode, HoldTTL and SkipInventoryValidation are shown on every
	// page, the bypass loudly.
	InventoryMode           checkoutd.InventoryMode
	HoldTTL                 time.Duration
	SkipInventoryValidation bool
	// Logger receives the console's errors (default slog.Default()).
	Logger *slog.Logger
}

// Console serves the pages.
type Console struct {
	ledger *inventory.Ledger
	pool   *pgxpool.Pool
	keys   *apikey.Store
	jobs   *river.Client[pgx.Tx]
	cfg    Config
	sign   signer
	pages  *pages
	log    *slog.Logger
	// outcomes keeps the charts' data for a minute (outcomesTTL).
	outcomes outcomesCache
}

// New returns a console on the ledger and pool. jobs, River's client, is
// read for the job health on the overview; nil leaves it out.
func New(ledger *inventory.Ledger, pool *pgxpool.Pool, keys *apikey.Store, jobs *river.Client[pgx.Tx], cfg Config) (*Console, error) {
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("console: the session key must be at least 32 bytes (see SessionKey)")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Console{ledger: ledger, pool: pool, keys: keys, jobs: jobs, cfg: cfg, sign: signer{key: cfg.SessionKey}, pages: p, log: cfg.Logger}, nil
}

// Mount adds the console's routes under /console/ to r.
func (c *Console) Mount(r *mux.Router) {
	static, _ := fs.Sub(assets, "static")
	r.PathPrefix("/console/static/").Handler(http.StripPrefix("/console/static/", cacheStatic(http.FileServer(http.FS(static))))).Methods(http.MethodGet)
	r.Handle("/console", http.RedirectHandler("/console/", http.StatusFound))
	s := r.PathPrefix("/console/").Subrouter()
	s.Use(c.headers)
	s.HandleFunc("/signin", c.signinPage).Methods(http.MethodGet)
	s.HandleFunc("/signin", c.signin).Methods(http.MethodPost)

	in := s.NewRoute().Subrouter()
	in.Use(c.requireSession)
	in.HandleFunc("/", c.home).Methods(http.MethodGet)
	in.HandleFunc("/signout", c.signout).Methods(http.MethodPost)

	shop := in.PathPrefix("/s/{shop}").Subrouter()
	shop.Use(c.requireShop)
	shop.HandleFunc("/", c.overview).Methods(http.MethodGet)
	shop.HandleFunc("/stock", c.stockList).Methods(http.MethodGet)
	shop.HandleFunc("/stock/line", c.stockLine).Methods(http.MethodGet)
	shop.HandleFunc("/stock/line", c.stockSettings).Methods(http.MethodPost)
	shop.HandleFunc("/holds", c.holdSearch).Methods(http.MethodGet)
	shop.HandleFunc("/holds/{hold}", c.holdStory).Methods(http.MethodGet)
	shop.HandleFunc("/changes", c.changesPage).Methods(http.MethodGet)
	shop.HandleFunc("/changes/{kind:adjust|receive|transfer}", c.change).Methods(http.MethodPost)
	shop.HandleFunc("/alerts", c.alertsPage).Methods(http.MethodGet)
}

// headers keeps the pages out of caches and frames and allows only the
// console's own scripts and styles.
func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

type sessionKey struct{}

// requireSession sends visitors without a valid session to the sign-in
// page, and keeps the session in the request's context.
func (c *Console) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		if s == nil {
			clearCookie(w, r, sessionCookie)
			if r.Method != http.MethodGet {
				c.renderError(w, r, http.StatusForbidden, "Your session has ended. Sign in again; nothing was changed.")
				return
			}
			http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// currentSession returns the request's session, nil if it has none that
// is still good: signed by us, not expired, and opened with a key that is
// still active or the service token still configured.
func (c *Console) currentSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	var s session
	if !c.sign.open(ck.Value, &s) || time.Now().Unix() >= s.Expires || s.Nonce == "" {
		return nil, nil
	}
	if s.Service {
		if c.cfg.ServiceToken == "" || s.TokenFingerprint != c.sign.fingerprint(c.cfg.ServiceToken) {
			return nil, nil
		}
		return &s, nil
	}
	active, err := c.keys.Active(r.Context(), s.ShopID, s.KeyID)
	if err != nil || !active {
		return nil, err
	}
	return &s, nil
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// requireShop answers 404 for a shop the session may not see, as the API
// does: a shop key cannot learn which other shops exist.
func (c *Console) requireShop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sessionOf(r).mayActOn(shopOf(r)) {
			c.renderError(w, r, http.StatusNotFound, "No such shop.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func shopOf(r *http.Request) string {
	return pathVar(r, "shop")
}

// pathVar is a path variable, decoded: routes match on the encoded path.
func pathVar(r *http.Request, name string) string {
	v := mux.Vars(r)[name]
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// home sends a shop key's session to its shop and shows the service the
// shop picker.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if !s.Service {
		http.Redirect(w, r, shopURL(s.ShopID, "/"), http.StatusSeeOther)
		return
	}
	after := r.URL.Query().Get("after")
	shops, err := c.ledger.Shops(r.Context(), after, pickerPage+1)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := struct {
		Shops []inventory.ShopEntry
		Next  string
	}{Shops: shops}
	if len(shops) > pickerPage {
		data.Shops = shops[:pickerPage]
		data.Next = shops[pickerPage-1].ID
	}
	c.render(w, r, http.StatusOK, "picker", "Shops", data)
}

// pickerPage is how many shops the picker lists at a time.
const pickerPage = 100

// shopURL is the address of a shop's page.
func shopURL(shopID, rest string) string {
	return "/console/s/" + url.PathEscape(shopID) + rest
}
