package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// sendRaw writes every request on one connection at once (pipelined) and
// reads the responses in order; it returns their statuses and whether the
// server then closed the connection.
func sendRaw(t *testing.T, ts *testServer, reqs ...string) ([]int, bool) {
	t.Helper()
	c, err := net.Dial("tcp", ts.srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, strings.Join(reqs, ""))
	require.NoError(t, err)
	br := bufio.NewReader(c)
	var statuses []int
	for range reqs {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	_, err = br.ReadByte()
	return statuses, err == io.EOF
}

func registration(token, name string, headers string, body func(string) string) string {
	data := `{"occurred_on":"2024-01-10","data":{"name":"` + name + `","profession":"education"}}`
	return "POST /v1/practitioners HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer " + token + "\r\n" + headers + "\r\n" + body(data)
}

func withLength(data string) string { return data }

func chunks(data string) string {
	half := len(data) / 2
	return fmt.Sprintf("%x;ext=1\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: yes\r\n\r\n", half, data[:half], len(data)-half, data[half:])
}

// TestContentLengthWithTransferEncodingIsRefused sends, on a raw socket,
// requests that give both Content-Length and Transfer-Encoding (issue 16
// item 10): net/http alone follows Transfer-Encoding and stores the
// event; the ledger answers 400, closes the connection and stores nothing.
// Requests framed one way only, pipelined on one connection, are served.
func TestContentLengthWithTransferEncodingIsRefused(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.tokens[api.RoleAdmin]
	data := `{"occurred_on":"2024-01-10","data":{"name":"Robin Fictional","profession":"education"}}`
	length := fmt.Sprintf("Content-Length: %d\r\n", len(data))

	t.Run("framed one way, pipelined", func(t *testing.T) {
		before := ts.count()
		statuses, closed := sendRaw(t, ts,
			registration(tok, "Robin Fictional", length, withLength),
			registration(tok, "Ash Fictional", "Transfer-Encoding: chunked\r\n", chunks),
			"GET /v1/openapi.json HTTP/1.1\r\nHost: ledger\r\n\r\n",
			registration(tok, "Jo Fictional", "transfer-encoding: CHUNKED\r\n", chunks),
			"GET /v1/openapi.json HTTP/1.1\r\nHost: ledger\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		)
		assert.Equal(t, []int{201, 201, 200, 201, 200}, statuses)
		assert.True(t, closed, "as the last request asked")
		assert.Equal(t, before+3, ts.count())
	})

	refused := []struct {
		name    string
		headers string
		body    func(string) string
	}{
		{"chunked body", length + "Transfer-Encoding: chunked\r\n", chunks},
		{"transfer-encoding first, other case", "transfer-encoding: chunked\r\n" + strings.ToLower(length), chunks},
		{"length zero", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", chunks},
		{"length body", length + "Transfer-Encoding: chunked\r\n", withLength},
		{"an encoding net/http does not know", length + "Transfer-Encoding: identity\r\n", withLength},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.count()
			statuses, closed := sendRaw(t, ts,
				registration(tok, "Robin Fictional", length, withLength),
				registration(tok, "Sam Fictional", tc.headers, tc.body),
				"GET /v1/openapi.json HTTP/1.1\r\nHost: ledger\r\n\r\n",
			)
			require.NotEmpty(t, statuses)
			assert.Equal(t, 201, statuses[0], "the request before it is served")
			require.Len(t, statuses, 2, "nothing after it is read")
			assert.Contains(t, []int{400, 501}, statuses[1])
			assert.True(t, closed, "the connection is closed")
			assert.Equal(t, before+1, ts.count(), "nothing of it is stored")
		})
	}

	t.Run("a request smuggled in the body", func(t *testing.T) {
		before := ts.count()
		inner := registration(tok, "Smuggled Fictional", length, withLength)
		// A front end following Content-Length forwards one request; one
		// following Transfer-Encoding would run the one inside the body.
		outer := "POST /v1/practitioners HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer " + tok + "\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n", len("0\r\n\r\n")+len(inner)) + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + inner
		statuses, closed := sendRaw(t, ts, outer, "")
		assert.Equal(t, []int{400}, statuses)
		assert.True(t, closed)
		assert.Equal(t, before, ts.count())
	})
}
