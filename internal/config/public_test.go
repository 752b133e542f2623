package config

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The public availability routes' settings: PUBLIC_CORS_ORIGINS,
// PUBLIC_RATE_LIMIT, PUBLIC_STREAMS_PER_IP, PUBLIC_STREAM_HEARTBEAT and
// TRUSTED_PROXIES.
func TestLoadPublicSettings(t *testing.T) {
	accepted := []struct {
		name, value string
		check       func(Config) bool
	}{
		{"PUBLIC_CORS_ORIGINS", "*", func(c Config) bool { return slices.Equal(c.CORSOrigins(), []string{"*"}) }},
		{"PUBLIC_CORS_ORIGINS", "https://Shop.Example,http://localhost:3000/", func(c Config) bool {
			return slices.Equal(c.CORSOrigins(), []string{"https://shop.example", "http://localhost:3000"})
		}},
		{"PUBLIC_RATE_LIMIT", "0", func(c Config) bool { return c.PublicRateLimit == 0 && c.PublicRateLimitBurst == 0 }},
		{"PUBLIC_RATE_LIMIT", "5,7", func(c Config) bool { return c.PublicRateLimit == 5 && c.PublicRateLimitBurst == 7 }},
		{"PUBLIC_STREAMS_PER_IP", "0", func(c Config) bool { return c.PublicStreamsPerIP == 0 }},
		{"PUBLIC_STREAM_HEARTBEAT", "1s", func(c Config) bool { return c.PublicStreamHeartbeat == time.Second }},
		{"TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7,2001:db8::/32,10.1.2.3/16", func(c Config) bool {
			return slices.Equal(c.TrustedProxyPrefixes(), []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
				netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.1.0.0/16"),
			})
		}},
	}
	for _, tt := range accepted {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			setEnv(t, map[string]string{tt.name: tt.value})
			c, err := Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("Load() = %+v", c)
			}
		})
	}

	refused := []struct{ name, value, want string }{
		{"PUBLIC_CORS_ORIGINS", "shop.example", `PUBLIC_CORS_ORIGINS="shop.example" is not allowed: use * or comma-separated origins such as https://shop.example,http://localhost:3000`},
		{"PUBLIC_CORS_ORIGINS", "https://shop.example/cart", `PUBLIC_CORS_ORIGINS="https://shop.example/cart" is not allowed: use * or comma-separated origins such as https://shop.example,http://localhost:3000`},
		{"PUBLIC_CORS_ORIGINS", "*,https://shop.example", `PUBLIC_CORS_ORIGINS="*,https://shop.example" is not allowed: use * or comma-separated origins such as https://shop.example,http://localhost:3000`},
		{"PUBLIC_CORS_ORIGINS", "https://shop.example,", `PUBLIC_CORS_ORIGINS="https://shop.example," is not allowed: use * or comma-separated origins such as https://shop.example,http://localhost:3000`},
		{"PUBLIC_RATE_LIMIT", "fast", `PUBLIC_RATE_LIMIT="fast" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"PUBLIC_STREAMS_PER_IP", "-1", `PUBLIC_STREAMS_PER_IP="-1" is out of range: use 0-100000`},
		{"PUBLIC_STREAM_HEARTBEAT", "30s", `PUBLIC_STREAM_HEARTBEAT="30s" is not allowed: use a duration from 1s to 15s, such as 15s`},
		{"TRUSTED_PROXIES", "10.0.0.0/33", `TRUSTED_PROXIES="10.0.0.0/33" is not allowed: use comma-separated addresses or CIDR prefixes, such as 10.0.0.0/8,192.0.2.7`},
		{"TRUSTED_PROXIES", "proxy.internal", `TRUSTED_PROXIES="proxy.internal" is not allowed: use comma-separated addresses or CIDR prefixes, such as 10.0.0.0/8,192.0.2.7`},
	}
	for _, tt := range refused {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			setEnv(t, map[string]string{tt.name: tt.value})
			if _, err := Load(); err == nil || err.Error() != tt.want {
				t.Errorf("Load() error = %v\nwant %s", err, tt.want)
			}
		})
	}
}
