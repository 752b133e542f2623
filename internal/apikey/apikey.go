// Package apikey issues, lists, revokes and verifies shop API keys.
//
// A key reads "ckd_<shopId>.<keyId>.<secret>". It names its shop, so
// verification is one keyed lookup, and only a SHA-256 of the secret is
// stored: the key is shown once, when it is created, and cannot be recovered.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/apikey/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/pgtext"
)

const prefix = "ckd_"

// ErrInvalid is returned by Verify for a key that is malformed, unknown,
// wrong or revoked. Callers must not tell these apart to the client.
var ErrInvalid = errors.New("invalid API key")

// ErrNotFound is returned by Revoke for a key the shop does not have (or has
// already revoked).
var ErrNotFound = errors.New("API key not found")

// Key describes a key without its secret.
type Key struct {
	ShopID    string
	ID        string
	Name      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Store keeps API keys in the database.
type Store struct {
	db      *pgxpool.Pool
	queries *db.Queries
	// verified spares a key that verified a lookup per request for
	// DefaultVerifyCacheTTL.
	verified *verifiedKeys
}

// NewStore returns a Store on db.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{db: pool, queries: db.New(), verified: newVerifiedKeys(DefaultVerifyCacheTTL)}
}

// Create issues a key for shopID and returns it; this is the only time the
// full key exists outside the client.
func (s *Store) Create(ctx context.Context, shopID, name string) (token string, key Key, err error) {
	id := randomString(6)
	secret := randomString(24)
	hash := sha256.Sum256([]byte(secret))
	err = s.queries.CreateAPIKey(ctx, s.db, db.CreateAPIKeyParams{ShopID: shopID, ID: id, Name: name, SecretHash: hash[:]})
	if database.IsForeignKeyViolation(err) {
		return "", Key{}, checkoutd.ErrShopNotFound
	}
	if err != nil {
		return "", Key{}, fmt.Errorf("create API key: %w", err)
	}
	return prefix + shopID + "." + id + "." + secret, Key{ShopID: shopID, ID: id, Name: name, CreatedAt: time.Now().UTC()}, nil
}

// List returns the shop's keys, revoked ones included, oldest first.
func (s *Store) List(ctx context.Context, shopID string) ([]Key, error) {
	rows, err := s.queries.ListAPIKeys(ctx, s.db, shopID)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	keys := make([]Key, len(rows))
	for i, r := range rows {
		keys[i] = Key{ShopID: r.ShopID, ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt}
	}
	return keys, nil
}

// Revoke stops a key from working, at once.
func (s *Store) Revoke(ctx context.Context, shopID, keyID string) error {
	n, err := s.queries.RevokeAPIKey(ctx, s.db, db.RevokeAPIKeyParams{ShopID: shopID, ID: keyID})
	if err != nil {
		return fmt.Errorf("revoke API key: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	s.verified.forget(shopID, keyID)
	return nil
}

// maxTokenBytes bounds a key: the longest shop id, a key id and a secret
// with room to spare.
const maxTokenBytes = 256

// Verify returns the shop a key belongs to, or ErrInvalid. A token that
// could not be a key (too long, or bytes PostgreSQL cannot compare: a NUL,
// invalid UTF-8) is refused before it reaches the database.
func (s *Store) Verify(ctx context.Context, token string) (shopID string, err error) {
	shopID, _, err = s.VerifyKey(ctx, token)
	return shopID, err
}

// VerifyKey is Verify that also returns the key's id, for callers that
// record which key acted (the console's audit trail) or check later that it
// still works (Active).
//
// A key that verified is trusted for DefaultVerifyCacheTTL without another
// lookup: revoked elsewhere, it keeps working here that long at most.
func (s *Store) VerifyKey(ctx context.Context, token string) (shopID, keyID string, err error) {
	if len(token) > maxTokenBytes || !pgtext.Valid(token) {
		return "", "", ErrInvalid
	}
	if k, ok := s.verified.get(token); ok {
		return k.shopID, k.keyID, nil
	}
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", "", ErrInvalid
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", "", ErrInvalid
	}
	shopID, keyID, secret := parts[0], parts[1], parts[2]
	row, err := s.queries.GetAPIKey(ctx, s.db, db.GetAPIKeyParams{ShopID: shopID, ID: keyID})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrInvalid
	}
	if err != nil {
		return "", "", database.WrapError("look up API key", err)
	}
	hash := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(hash[:], row.SecretHash) != 1 || row.RevokedAt != nil {
		return "", "", ErrInvalid
	}
	s.verified.put(token, shopID, keyID)
	return shopID, keyID, nil
}

// Active reports whether the shop's key keyID exists and is not revoked:
// for a session opened with the key, so that revoking it ends the session
// at once.
func (s *Store) Active(ctx context.Context, shopID, keyID string) (bool, error) {
	row, err := s.queries.GetAPIKey(ctx, s.db, db.GetAPIKeyParams{ShopID: shopID, ID: keyID})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, database.WrapError("look up API key", err)
	}
	return row.RevokedAt == nil, nil
}

// MatchesServiceToken reports, in constant time, whether token is the
// service token. An empty service token matches nothing.
func MatchesServiceToken(token, serviceToken string) bool {
	return NewServiceToken(serviceToken).Matches(token)
}

// ServiceToken is the service token, hashed once for the comparisons a
// server makes on every request.
type ServiceToken struct {
	sum [sha256.Size]byte
	set bool
}

// NewServiceToken returns serviceToken ready to compare; an empty one
// matches nothing.
func NewServiceToken(serviceToken string) ServiceToken {
	if serviceToken == "" {
		return ServiceToken{}
	}
	return ServiceToken{sum: sha256.Sum256([]byte(serviceToken)), set: true}
}

// Matches reports, in constant time, whether token is the service token.
// Comparing hashes keeps the comparison's time independent of where the
// strings differ and of their lengths.
func (t ServiceToken) Matches(token string) bool {
	if !t.set {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if n <= 8 {
		return hex.EncodeToString(b)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
