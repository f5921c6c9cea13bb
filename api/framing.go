package api

import (
	"bytes"
	"net"
	"strconv"
	"sync"
)

// A request that gives both Content-Length and Transfer-Encoding can be
// framed two ways: net/http follows Transfer-Encoding and drops
// Content-Length (RFC 9112 6.1 allows it), while a proxy in front of the
// server may follow Content-Length, and what one reads as a body the other
// reads as the next request (request smuggling). RFC 9112 also allows
// refusing such a request, and the ledger does, with 400. net/http gives
// no hook for it: it removes Content-Length before any handler runs. So
// the listener's connections watch the bytes net/http reads, following
// HTTP/1.1's framing (heads, Content-Length bodies, chunked bodies), and a
// head with both fields reaches net/http with its request line replaced
// by one it cannot parse, which it answers with 400 Bad Request before
// closing the connection. Whatever the watcher cannot follow (a framing
// error, a head past the size limit) it stops watching: net/http refuses
// those itself and closes the connection. (The server never hijacks a
// connection for another protocol, which the watch would not follow.)

// refuseAmbiguousFraming wraps ln so that its connections refuse requests
// with both Content-Length and Transfer-Encoding.
func refuseAmbiguousFraming(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// refusedRequestLine replaces the head of a refused request: no spaces, so
// net/http finds it malformed and answers 400.
var refusedRequestLine = []byte("Content-Length-with-Transfer-Encoding-refused\r\n\r\n")

// maxWatchedHead is the longest head watched: net/http's default header
// limit plus its slack. A longer one gets 431 from net/http.
const maxWatchedHead = 1<<20 + 4096

// framing states.
const (
	inHead = iota
	inBody
	inChunkLine
	inChunkData
	inChunkEnd
	inTrailer
	unwatched
)

// framingConn is a connection whose reads go through the framing watch.
// net/http reads a connection from one goroutine at a time (its background
// read included), but mu guards the state all the same.
type framingConn struct {
	net.Conn
	mu    sync.Mutex
	state int
	// head holds a head (or chunk or trailer line) read but not yet
	// passed on; out holds bytes ready for the reader.
	head []byte
	out  []byte
	// outBuf is out's array, reused once out is drained.
	outBuf []byte
	// left counts the bytes left in a body or chunk.
	left uint64
	raw  [4096]byte
}

func (c *framingConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) == 0 {
		c.out = c.outBuf[:0]
		if c.state == unwatched {
			if len(c.head) > 0 {
				c.out, c.head = c.head, nil
				break
			}
			return c.Conn.Read(p)
		}
		n, err := c.Conn.Read(c.raw[:])
		c.feed(c.raw[:n])
		if cap(c.out) > cap(c.outBuf) && cap(c.out) <= 64<<10 {
			c.outBuf = c.out[:0]
		}
		if err != nil && len(c.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// CloseWrite shuts the writing side when the connection has one, as
// net/http does after an error response so that the client reads it
// before the connection closes.
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// feed runs b through the framing watch, appending to c.out what may be
// passed on.
func (c *framingConn) feed(b []byte) {
	for len(b) > 0 {
		switch c.state {
		case unwatched:
			c.out = append(c.out, b...)
			return
		case inBody, inChunkData:
			n := min(uint64(len(b)), c.left)
			c.out = append(c.out, b[:n]...)
			b = b[n:]
			c.left -= n
			if c.left == 0 {
				if c.state == inChunkData {
					c.state = inChunkEnd
				} else {
					c.state = inHead
				}
			}
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.head = append(c.head, b...)
				if len(c.head) > maxWatchedHead {
					c.unwatch()
				}
				return
			}
			c.head = append(c.head, b[:i+1]...)
			b = b[i+1:]
			c.line()
		}
	}
}

// unwatch gives up watching: what is held is passed on as it came.
func (c *framingConn) unwatch() {
	c.out = append(c.out, c.head...)
	c.head = c.head[:0]
	c.state = unwatched
}

// line handles the line that c.head now ends with.
func (c *framingConn) line() {
	switch c.state {
	case inChunkEnd:
		if string(c.head) != "\r\n" {
			c.unwatch()
			return
		}
		c.pass(inChunkLine)
	case inChunkLine:
		size, ok := chunkSize(c.head)
		switch {
		case !ok:
			c.unwatch()
		case size == 0:
			c.pass(inTrailer)
		default:
			c.left = size
			c.pass(inChunkData)
		}
	case inTrailer:
		if isBlank(c.head) {
			c.pass(inHead)
		} else {
			c.pass(inTrailer)
		}
	case inHead:
		// A head is complete at its first blank line after the request line.
		start := bytes.LastIndexByte(c.head[:len(c.head)-1], '\n') + 1
		if !isBlank(c.head[start:]) {
			if len(c.head) > maxWatchedHead {
				c.unwatch()
			}
			return
		}
		if start == 0 {
			c.unwatch() // no request line: net/http refuses it
			return
		}
		c.endHead()
	}
}

// pass passes the held line on and moves to state.
func (c *framingConn) pass(state int) {
	c.out = append(c.out, c.head...)
	c.head = c.head[:0]
	c.state = state
}

// endHead decides what follows a complete head, and refuses it if it
// names both Content-Length and Transfer-Encoding.
func (c *framingConn) endHead() {
	lines := bytes.Split(c.head, []byte("\n"))
	http10 := bytes.HasSuffix(bytes.TrimRight(lines[0], "\r"), []byte("HTTP/1.0"))
	var length []byte
	hasLength, hasTE, chunked := false, false, false
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(bytes.TrimRight(l, "\r"), []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			hasLength, length = true, value
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			hasTE = true
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	if hasLength && hasTE {
		c.head = append(c.head[:0], refusedRequestLine...)
		c.unwatch() // net/http answers 400 and closes
		return
	}
	switch {
	case hasTE && !http10:
		if !chunked {
			c.unwatch() // net/http answers 501 and closes
			return
		}
		c.pass(inChunkLine)
	case hasLength:
		n, err := strconv.ParseUint(string(length), 10, 63)
		if err != nil {
			c.unwatch() // net/http answers 400
			return
		}
		c.left = n
		if n == 0 {
			c.pass(inHead)
		} else {
			c.pass(inBody)
		}
	default:
		c.pass(inHead)
	}
}

// chunkSize reads a chunk-size line as net/http does: hex digits, then
// optional whitespace and extensions, ending in CRLF.
func chunkSize(line []byte) (uint64, bool) {
	if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.IndexByte(line, '\r') != len(line)-2 {
		return 0, false
	}
	line = line[:len(line)-2]
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(line), 16, 64)
	return n, err == nil
}

// isBlank reports whether line is an empty line ("\n" or "\r\n").
func isBlank(line []byte) bool {
	return string(line) == "\n" || string(line) == "\r\n"
}
