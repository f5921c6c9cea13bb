package api

import (
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limiter holds one token bucket per principal, and one per client address
// for requests without a valid token. A request takes one token to be let
// in; what it turned out to cost (its response size) is charged after it,
// and may leave the bucket in debt, so that a 10,000-event page weighs as
// much as the many small requests it replaces. Safe for concurrent use.
type limiter struct {
	rate  float64 // tokens per second; 0 turns limiting off
	burst float64 // tokens a full bucket holds
	now   func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

// bucketKey names a bucket: a principal's, or a client address's. A struct
// rather than a joined string: a request makes no new string to find it.
type bucketKey struct {
	principal bool
	name      string
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the map against a flood of distinct client addresses:
// when reached, buckets idle long enough to be full again are dropped.
const maxBuckets = 10_000

// costUnit is the response size one request's worth stands for: a
// response of n bytes costs 1 + n/costUnit requests in all.
const costUnit = 16 << 10

// maxDebtSeconds bounds the debt one costly request can run up, in seconds
// of the sustained rate.
const maxDebtSeconds = 60

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rate)))
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: make(map[bucketKey]*bucket)}
}

// enabled reports whether requests are limited at all.
func (l *limiter) enabled() bool { return l.rate > 0 }

// refill returns key's bucket topped up for the time since it was last
// seen, made full on first use. Callers hold mu.
func (l *limiter) refill(key bucketKey, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
		return b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	return b
}

// allow takes one token from key's bucket, or returns a *rateLimitError
// saying how long to wait until one is there. A zero rate allows everything.
func (l *limiter) allow(key bucketKey) error {
	if l.rate <= 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens < 1 {
		return &rateLimitError{seconds: max(1, int(math.Ceil((1-b.tokens)/l.rate)))}
	}
	b.tokens--
	return nil
}

// charge takes what a request cost beyond the token allow took, for a
// response of size bytes. The bucket may go into debt, up to
// maxDebtSeconds of the rate; later requests wait until it is paid.
func (l *limiter) charge(key bucketKey, size int) { l.debit(key, size/costUnit) }

// debit takes n requests' worth from key's bucket, into debt if need be
// (down to maxDebtSeconds of the rate).
func (l *limiter) debit(key bucketKey, n int) {
	if l.rate <= 0 || n <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	b.tokens = max(b.tokens-float64(n), -l.rate*maxDebtSeconds)
}

// prune drops buckets idle for longer than it takes to refill from the
// deepest debt. Callers hold mu.
func (l *limiter) prune(now time.Time) {
	full := time.Duration((l.burst/l.rate+maxDebtSeconds)*float64(time.Second)) + time.Second
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}

// limitKey is the bucket a request draws on: its principal's, or for a
// request without a valid token, its client address's.
func (s *Server) limitKey(r *http.Request, p Principal) bucketKey {
	if p.Name != "" {
		return bucketKey{principal: true, name: p.Name}
	}
	return bucketKey{name: s.clientAddr(r)}
}

// clientAddr is the address a request came from, for its rate-limit
// bucket. X-Forwarded-For is believed only from a configured trusted
// proxy, and read from the right: each trusted hop vouches for the one
// before it, and the first address not trusted is the client. Anything a
// client could write itself (an X-Forwarded-For sent straight to the
// server, the part left of an untrusted hop) is never used. IPv6 clients
// are keyed by their /64, which one host usually holds whole.
func (s *Server) clientAddr(r *http.Request) string {
	addr, err := netip.ParseAddr(hostOf(r.RemoteAddr))
	if err != nil {
		return r.RemoteAddr
	}
	addr = addr.Unmap()
	if s.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop the proxy did not write: the last good one stands
			}
			addr = hop.Unmap()
			if !s.trusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// ParseTrustedProxies reads trusted proxies as CIDR prefixes
// ("10.0.0.0/8") or single addresses ("192.0.2.7"), for
// Config.TrustedProxies.
func ParseTrustedProxies(specs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		if p, err := netip.ParsePrefix(spec); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(spec)
		if err != nil {
			return nil, invalidf("trusted-proxy", "%q is neither an address nor a CIDR prefix (e.g. 10.0.0.0/8)", spec)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted reports whether addr is one of the configured trusted proxies.
func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// hostOf is the host part of a host:port address.
func hostOf(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return host
}

// failedSignInCost is what a console sign-in with a token that does not
// authenticate costs its address's bucket, in requests, on top of the
// request itself: guessing tokens goes ten times slower than browsing.
const failedSignInCost = 10

// limitUI is UIDeps.Limit: a console request draws on the bucket the API
// would charge, its signed-in principal's (shared with the API's requests
// on the same token) or its address's, and pays for its response's size
// after it.
func (s *Server) limitUI(w http.ResponseWriter, r *http.Request, p Principal) (func(), error) {
	if p.Name != "" {
		setPrincipal(w, p.Name)
	}
	if !s.limiter.enabled() {
		return func() {}, nil
	}
	key := s.limitKey(r, p)
	if err := s.limiter.allow(key); err != nil {
		var rl *rateLimitError
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", strconv.Itoa(rl.seconds))
		}
		return nil, err
	}
	sw := infoFrom(w)
	return func() {
		if sw != nil {
			s.limiter.charge(key, sw.bytes+sw.work)
		}
	}, nil
}

// signInFailed is UIDeps.SignInFailed: a guessed token costs its address
// failedSignInCost requests more.
func (s *Server) signInFailed(r *http.Request) {
	s.limiter.debit(s.limitKey(r, Principal{}), failedSignInCost)
}
