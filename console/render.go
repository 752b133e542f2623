package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// pages are the parsed templates, one set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(assets, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", n, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/page_"), ".html")
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page's template gets.
type view struct {
	Title   string
	Session *session
	// Shop is the shop the page is about, "" for the sign-in page and the
	// picker.
	Shop string
	// Nav is the page's section, for the navigation's aria-current.
	Nav  string
	CSRF string
	// Mode, HoldTTL and Bypass are the service's settings, on every page.
	Mode    checkoutd.InventoryMode
	HoldTTL time.Duration
	Bypass  bool
	Data    any
}

// render writes a page for a signed-in session.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	csrf := ""
	if s := sessionOf(r); s != nil {
		csrf = c.sign.token("form", s.Nonce)
	}
	c.renderWith(w, r, status, page, title, csrf, data)
}

func (c *Console) renderWith(w http.ResponseWriter, r *http.Request, status int, page, title, csrf string, data any) {
	t := c.pages.byName[page]
	if t == nil {
		c.serverError(w, r, fmt.Errorf("no page %q", page))
		return
	}
	v := view{
		Title: title, Session: sessionOf(r), Nav: page, CSRF: csrf, Data: data,
		Mode: c.cfg.InventoryMode, HoldTTL: c.cfg.HoldTTL, Bypass: c.cfg.SkipInventoryValidation,
	}
	// The shop's name and links only for a session that may see it: an
	// error page about another shop shows neither.
	if _, ok := mux.Vars(r)["shop"]; ok && v.Session != nil && v.Session.mayActOn(shopOf(r)) {
		v.Shop = shopOf(r)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.serverError(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError writes an error page with a message for people.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	c.render(w, r, status, "error", http.StatusText(status), message)
}

func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	c.log.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "error", err.Error())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("The console failed to answer. The error is in the service's log.\n"))
}

// fail answers a domain error that no form takes: the one place the
// console turns typed errors into statuses.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *checkoutd.ValidationError
	var busy *inventory.BusyError
	switch {
	case errors.Is(err, checkoutd.ErrShopNotFound):
		c.renderError(w, r, http.StatusNotFound, "No such shop.")
	case errors.Is(err, inventory.ErrStockLineNotFound):
		c.renderError(w, r, http.StatusNotFound, "The shop has no such stock line.")
	case errors.Is(err, inventory.ErrHoldNotFound):
		c.renderError(w, r, http.StatusNotFound, "The shop has no such hold.")
	case errors.As(err, &invalid):
		c.renderError(w, r, http.StatusBadRequest, "That request is not valid: "+issues(invalid))
	case errors.As(err, &busy):
		w.Header().Set("Retry-After", strconv.Itoa(int(busy.RetryAfter.Seconds()+0.5)))
		c.renderError(w, r, http.StatusServiceUnavailable, "The stock is busy. Try again in a moment; nothing was changed.")
	case errors.Is(err, inventory.ErrUnavailable):
		c.renderError(w, r, http.StatusServiceUnavailable, "The database is not answering. Try again in a moment; nothing was changed.")
	default:
		c.serverError(w, r, err)
	}
}

func issues(e *checkoutd.ValidationError) string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Field + " " + d.Issue
	}
	return strings.Join(parts, "; ")
}

var funcs = template.FuncMap{
	"shopURL": shopURL,
	"lineURL": func(shop, sku, variantKey string) string {
		return shopURL(shop, "/stock/line?"+url.Values{"sku": {sku}, "variant": {variantKey}}.Encode())
	},
	"holdURL": holdURL,
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"whenPtr": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"until": func(t time.Time) string { return roundDuration(time.Until(t)) },
	"str": func(p *string) string {
		if p == nil {
			return "—"
		}
		return *p
	},
	"signed": func(n int64) string {
		if n > 0 {
			return "+" + strconv.FormatInt(n, 10)
		}
		return strconv.FormatInt(n, 10)
	},
	"pct":      func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"dur":      roundDuration,
	"fieldErr": func(errs map[string]string, field string) string { return errs[field] },
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	},
	"inc":   func(i int) int { return i + 1 },
	"field": func(prefix string, i int, name string) string { return fmt.Sprintf("%s[%d].%s", prefix, i, name) },
	"deref": func(t *time.Time) time.Time { return *t },
	// withShop hands a shared part its items and the shop its links go to.
	"withShop": func(shop string, items any) map[string]any { return map[string]any{"Shop": shop, "Items": items} },
	"rowsOf": func(prefix, id string, form changeForm, locations []inventory.Location, n int, adjust bool) rowsView {
		return rowsView{Prefix: prefix, ID: id, Form: form, Locations: locations, N: n, Adjust: adjust}
	},
	"ops": func() []inventory.Op {
		return []inventory.Op{inventory.OpIncrement, inventory.OpDecrement, inventory.OpSet}
	},
	"adjustTypes": func() []inventory.MovementType { return adjustTypes },
}

// adjustTypes are the movement types an adjustment may record.
var adjustTypes = []inventory.MovementType{inventory.MovementAdjustment, inventory.MovementDamage, inventory.MovementReturn, inventory.MovementPurchaseOrder}

// rowsView is what the form rows part gets: one form's rows.
type rowsView struct {
	Prefix, ID string
	Form       changeForm
	Locations  []inventory.Location
	N          int
	Adjust     bool
}

// roundDuration words a duration for people: "4m 10s", "in the past".
func roundDuration(d time.Duration) string {
	if d < 0 {
		return "passed"
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}
