package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// The console keeps no session store: checkoutd runs as many stateless
// replicas, and any of them must accept a session another opened. The
// session travels in a cookie, signed with an HMAC under a key every replica
// derives from the same configuration (see SessionKey); the server trusts
// nothing in it that the signature does not cover.
const (
	sessionCookie = "checkoutd_console"
	// signinCookie carries the nonce the sign-in form's CSRF token is bound
	// to, before there is a session.
	signinCookie = "checkoutd_console_signin"
	// DefaultSessionTTL is how long a session lasts after sign-in.
	DefaultSessionTTL = 8 * time.Hour
	signinTTL         = 15 * time.Minute
)

// session is who signed in, carried in the cookie.
type session struct {
	// Service is a sign-in with the service token: every shop.
	Service bool `json:"svc,omitempty"`
	// ShopID and KeyID name the shop key signed in with.
	ShopID string `json:"shop,omitempty"`
	KeyID  string `json:"key,omitempty"`
	// TokenFingerprint binds a service session to the service token it was
	// opened with: rotating the token ends the sessions.
	TokenFingerprint string `json:"tfp,omitempty"`
	// Nonce is random per session; the CSRF token is derived from it.
	Nonce   string `json:"n"`
	Expires int64  `json:"exp"`
}

// actor is the session as the movement ledger's createdBy records it.
func (s *session) actor() string {
	if s.Service {
		return "console:service"
	}
	return "console:" + s.KeyID
}

// mayActOn reports whether the session may see and change shopID.
func (s *session) mayActOn(shopID string) bool {
	return s.Service || s.ShopID == shopID
}

// SessionKey is the key sessions and CSRF tokens are signed with. An
// operator may set one (CONSOLE_SESSION_KEY, at least 32 bytes) and rotate
// it to end every session; otherwise it is derived from the service token
// (INVENTORY_AUTHORITY_TOKEN), which every replica already shares and keeps
// secret. Either secret is used only through a label of the console's own,
// so that the console signs nothing with a value some other part of the
// service computes from the same secret (a plain SHA-256 of a token is
// what key stores keep). With neither there is no shared secret, and a key
// made up by one replica would not be accepted by the next: that is an
// error.
func SessionKey(configured, serviceToken string) ([]byte, error) {
	secret := configured
	switch {
	case configured != "":
		if len(configured) < 32 {
			return nil, errors.New("the console session key must be at least 32 bytes")
		}
	case serviceToken != "":
		secret = serviceToken
	default:
		return nil, errors.New("the console needs CONSOLE_SESSION_KEY or INVENTORY_AUTHORITY_TOKEN to sign its sessions")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("checkoutd console session key v1"))
	return mac.Sum(nil), nil
}

// signer signs and checks the console's cookies and tokens.
type signer struct {
	key []byte
}

func (s signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		// Length-prefixed, so that no two part lists sign alike. Four
		// bytes: a cookie a client makes up may be longer than two bytes
		// count, and a prefix that wraps would let two lists collide.
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// seal signs v's JSON into a cookie value.
func (s signer) seal(v any) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + base64.RawURLEncoding.EncodeToString(s.mac("cookie", b)), nil
}

// open checks a sealed value's signature and decodes it into v.
func (s signer) open(value string, v any) bool {
	b, sig, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("cookie", b)) {
		return false
	}
	body, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil {
		return false
	}
	return json.Unmarshal(body, v) == nil
}

// token derives a CSRF token for purpose from a nonce.
func (s signer) token(purpose, nonce string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", purpose, nonce))
}

// validToken checks a submitted CSRF token in constant time.
func (s signer) validToken(purpose, nonce, submitted string) bool {
	want := s.token(purpose, nonce)
	return nonce != "" && subtle.ConstantTimeCompare([]byte(want), []byte(submitted)) == 1
}

// fingerprint identifies the service token without revealing it.
func (s signer) fingerprint(serviceToken string) string {
	return hex.EncodeToString(s.mac("service token", serviceToken)[:8])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// secure reports whether the request came over HTTPS, directly or through
// a proxy that says so: cookies are then marked Secure. Over plain HTTP
// (local development) a Secure cookie would never come back.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/console/", MaxAge: int(ttl / time.Second),
		Expires: time.Now().Add(ttl), HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode,
	})
}
