package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"sync"
	"time"
)

// cookieName is the session cookie's name.
const cookieName = "ledger_session"

// maxSessions bounds the sessions held; past it the least recently used
// is dropped.
const maxSessions = 10000

// session is one signed-in browser. The token stays here, on the server:
// the browser holds only the session id.
type session struct {
	id       string
	token    string
	csrf     string
	created  time.Time
	lastSeen time.Time
	// flash is a one-time message for the next page (after a redirect).
	flash string
	// searches are the names searched for, oldest first, each under the
	// opaque id the search page's URL carries instead of the name.
	searches []savedSearch
}

// savedSearch is a name searched for, under its id.
type savedSearch struct{ id, name string }

// maxSearches is how many searches a session keeps (for the back button
// and a few tabs); the oldest goes first.
const maxSearches = 20

// sessions is the console's session store, in memory. Safe for concurrent
// use.
type sessions struct {
	mu      sync.Mutex
	byID    map[string]*session
	idle    time.Duration
	maxLife time.Duration
	now     func() time.Time
}

func newSessions(idle, maxLife time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, maxLife: maxLife, now: now}
}

// randomString is 256 random bits, URL-safe.
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for token, which has just authenticated.
func (s *sessions) create(token string) *session {
	now := s.now()
	ss := &session{id: randomString(), token: token, csrf: randomString(), created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.byID) >= maxSessions {
		var oldest *session
		for _, o := range s.byID {
			if oldest == nil || o.lastSeen.Before(oldest.lastSeen) {
				oldest = o
			}
		}
		delete(s.byID, oldest.id)
	}
	s.byID[ss.id] = ss
	return ss
}

// sweepLocked drops expired sessions. Callers hold s.mu.
func (s *sessions) sweepLocked(now time.Time) {
	for id, ss := range s.byID {
		if s.expired(ss, now) {
			delete(s.byID, id)
		}
	}
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) > s.idle || now.Sub(ss.created) > s.maxLife
}

// get returns the live session with id, touching it; nil when there is
// none or it has expired (and is then dropped).
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.byID, id)
		return nil
	}
	ss.lastSeen = now
	return ss
}

// end drops the session with id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// takeFlash returns and clears the session's one-time message.
func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := ss.flash
	ss.flash = ""
	return f
}

// setFlash leaves a one-time message for the session's next page.
func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.flash = msg
}

// saveSearch keeps name in the session and returns the id that stands for
// it in URLs: the same id for the same name, so paging and searching again
// keep one.
func (s *sessions) saveSearch(ss *session, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range ss.searches {
		if o.name == name {
			ss.searches = append(slices.Delete(ss.searches, i, i+1), o)
			return o.id
		}
	}
	if len(ss.searches) >= maxSearches {
		ss.searches = ss.searches[1:]
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	o := savedSearch{id: base64.RawURLEncoding.EncodeToString(b[:]), name: name}
	ss.searches = append(ss.searches, o)
	return o.id
}

// search returns the name the session keeps under id.
func (s *sessions) search(ss *session, id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range ss.searches {
		if o.id == id {
			return o.name, true
		}
	}
	return "", false
}

// validCSRF reports whether token is the session's CSRF token.
func (ss *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf)) == 1
}

// setCookie gives the browser the session id: HttpOnly, SameSite=Strict,
// Secure when the browser came over TLS, for /ui only.
func (c *console) setCookie(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	secure := r.TLS != nil
	if c.d.Secure != nil {
		secure = c.d.Secure(r)
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/ui", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	})
}
