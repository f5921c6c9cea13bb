package api

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pieceConn is a connection that returns its input in pieces of random
// sizes, as a network does.
type pieceConn struct {
	net.Conn
	r   *bytes.Reader
	rnd *rand.Rand
}

func (c *pieceConn) Read(p []byte) (int, error) {
	n := 1 + c.rnd.IntN(64)
	if c.rnd.IntN(4) == 0 {
		n = len(p)
	}
	return c.r.Read(p[:min(n, len(p))])
}

// watched returns what net/http would read from input through the watch.
func watched(t *testing.T, input []byte, seed uint64) []byte {
	t.Helper()
	c := &framingConn{Conn: &pieceConn{r: bytes.NewReader(input), rnd: rand.New(rand.NewPCG(seed, 1))}}
	var out bytes.Buffer
	buf := make([]byte, 1+int(seed%4096))
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes()
		}
		require.NoError(t, err)
	}
}

// pipelined writes n requests framed each a way chosen by r: no body,
// Content-Length, or chunked with extensions and trailers; header names in
// any case, bare LF line ends in heads.
func pipelined(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for range n {
		eol := "\r\n"
		if r.IntN(4) == 0 {
			eol = "\n"
		}
		name := func(s string) string {
			switch r.IntN(3) {
			case 0:
				return strings.ToLower(s)
			case 1:
				return strings.ToUpper(s)
			}
			return s
		}
		body := strings.Repeat("x\r\n0\r\n\r\nGET / HTTP/1.1\r\n", r.IntN(30))
		fmt.Fprintf(&b, "POST /v1/x HTTP/1.1%sHost: h%sX-Note: a: b%s", eol, eol, eol)
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "%s", eol)
		case 1:
			fmt.Fprintf(&b, "%s: %d%s%s%s", name("Content-Length"), len(body), eol, eol, body)
		case 2:
			fmt.Fprintf(&b, "%s:  %s %s%s", name("Transfer-Encoding"), name("chunked"), eol, eol)
			for len(body) > 0 {
				k := 1 + r.IntN(len(body))
				ext := ""
				if r.IntN(3) == 0 {
					ext = " ;a=b"
				}
				fmt.Fprintf(&b, "%X%s\r\n%s\r\n", k, ext, body[:k])
				body = body[k:]
			}
			b.WriteString("0\r\n")
			if r.IntN(2) == 0 {
				b.WriteString("X-Sum: 1\r\n")
			}
			b.WriteString("\r\n")
		}
	}
	return b.Bytes()
}

// FuzzFramingWatch checks that the watch passes every stream of requests
// framed one way through unchanged, however the network cuts it, and that
// a request framed both ways reaches net/http as the refused line, with
// nothing after it changed.
func FuzzFramingWatch(f *testing.F) {
	f.Add(uint64(1), uint8(3), false)
	f.Add(uint64(7), uint8(12), true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, ambiguous bool) {
		r := rand.New(rand.NewPCG(seed, 2))
		input := pipelined(r, 1+int(n%16))
		if !ambiguous {
			assert.Equal(t, string(input), string(watched(t, input, seed)))
			return
		}
		bad := "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
		rest := "0\r\n\r\nGET / HTTP/1.1\r\n\r\n"
		got := watched(t, append(append(input, bad...), rest...), seed)
		assert.Equal(t, string(input)+string(refusedRequestLine)+rest, string(got))
	})
}

func TestChunkSize(t *testing.T) {
	tests := []struct {
		line string
		want uint64
		ok   bool
	}{
		{"1a\r\n", 26, true},
		{"1A;ext=x\r\n", 26, true},
		{"10 \t;e\r\n", 16, true},
		{"0\r\n", 0, true},
		{"1a\n", 0, false},
		{"1\ra\r\n", 0, false},
		{"\r\n", 0, false},
		{"-1\r\n", 0, false},
		{"11111111111111111\r\n", 0, false},
	}
	for _, tt := range tests {
		n, ok := chunkSize([]byte(tt.line))
		assert.Equal(t, tt.ok, ok, "%q", tt.line)
		assert.Equal(t, tt.want, n, "%q", tt.line)
	}
}
