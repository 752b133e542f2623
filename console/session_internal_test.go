package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// Two part lists never sign alike, even when a part is longer than a
// two-byte length prefix could count: there, ["ab", 65,534 bytes] and the
// one part made of "ab", that prefix and those bytes would collide.
func TestSignerPartsNeverCollide(t *testing.T) {
	t.Parallel()
	s := signer{key: bytes.Repeat([]byte{7}, 32)}
	tail := strings.Repeat("z", 65534)
	joined := "ab" + string([]byte{byte(len(tail) >> 8), byte(len(tail))}) + tail
	if hmac.Equal(s.mac("ab", tail), s.mac(joined)) {
		t.Fatal("a list of two parts signs like one part")
	}
}

// The session key is never a plain hash of the secret it comes from, which
// other parts of the service may compute and keep.
func TestSessionKeyIsLabelled(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("k", 32)
	for _, tc := range []struct{ configured, token string }{{secret, ""}, {"", secret}} {
		key, err := SessionKey(tc.configured, tc.token)
		if err != nil {
			t.Fatal(err)
		}
		if plain := sha256.Sum256([]byte(secret)); bytes.Equal(key, plain[:]) {
			t.Errorf("SessionKey(%q, %q) is the secret's SHA-256", tc.configured, tc.token)
		}
	}
	if _, err := SessionKey("short", "token"); err == nil {
		t.Error("a configured key under 32 bytes was taken")
	}
	if _, err := SessionKey("", ""); err == nil {
		t.Error("a key was made up without a secret")
	}
}
