package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/checkoutd/checkoutd/internal/apikey"
)

// maxFormBytes bounds a form's body: the largest form has a few rows of
// short fields.
const maxFormBytes = 64 << 10

// signinData is the sign-in page's.
type signinData struct {
	Next  string
	Error string
}

// signinPage shows the sign-in form, with a fresh nonce for its CSRF
// token in a cookie of its own.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	nonce := randomHex(16)
	setCookie(w, r, signinCookie, nonce, signinTTL)
	c.renderWith(w, r, status, "signin", "Sign in", c.sign.token("signin", nonce), signinData{Next: safeNext(next), Error: problem})
}

// signin opens a session for a shop key or the service token.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	next := r.PostForm.Get("next")
	ck, err := r.Cookie(signinCookie)
	if err != nil || !c.sign.validToken("signin", ck.Value, r.PostForm.Get("csrf")) {
		c.renderSignin(w, r, http.StatusForbidden, next, "The form had expired. Please sign in again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	s := session{Nonce: randomHex(16), Expires: time.Now().Add(c.cfg.SessionTTL).Unix()}
	switch {
	case token == "":
		c.renderSignin(w, r, http.StatusUnprocessableEntity, next, "Enter a shop key or the service token.")
		return
	case apikey.MatchesServiceToken(token, c.cfg.ServiceToken):
		s.Service = true
		s.TokenFingerprint = c.sign.fingerprint(c.cfg.ServiceToken)
	default:
		shopID, keyID, err := c.keys.VerifyKey(r.Context(), token)
		if errors.Is(err, apikey.ErrInvalid) {
			c.log.InfoContext(r.Context(), "console sign-in refused")
			c.renderSignin(w, r, http.StatusUnauthorized, next, "That key is not valid.")
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		s.ShopID, s.KeyID = shopID, keyID
	}
	value, err := c.sign.seal(s)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	clearCookie(w, r, signinCookie)
	setCookie(w, r, sessionCookie, value, c.cfg.SessionTTL)
	c.log.InfoContext(r.Context(), "console sign-in", "shop_id", s.ShopID, "actor", s.actor())
	if next == "" {
		next = "/console/"
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// signout ends the session.
func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) || !c.checkCSRF(w, r) {
		return
	}
	clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on the console: never to another
// site, nor to a path outside /console/.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// parseForm reads a POST body of at most maxFormBytes.
func (c *Console) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

// checkCSRF refuses a form whose CSRF token is not the session's.
func (c *Console) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	s := sessionOf(r)
	if s == nil || !c.sign.validToken("form", s.Nonce, r.PostForm.Get("csrf")) {
		c.renderError(w, r, http.StatusForbidden, "The form's security token did not match. Reload the page and try again; nothing was changed.")
		return false
	}
	return true
}
