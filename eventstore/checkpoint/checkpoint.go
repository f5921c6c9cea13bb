package checkpoint

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imattertraining/ledger/eventstore"
)

// Format names this version of the checkpoint statement; it is also the
// domain separator of what is signed.
const Format = "imatter-ledger/checkpoint/v1"

// Reader is what a checkpoint needs of a store: every event in global
// order, as Verify and Copy need it. Every eventstore.Store is one, and so
// is an api/client.Client.
type Reader = eventstore.AllReader

// HeadsReader is a Reader that can list every stream's head as it stands
// at one position without reading every event, as the embedded store does
// from its in-memory index ((*bolt.Store).Heads). Take uses it when r has it.
type HeadsReader interface {
	Heads(fn func(stream string, revision uint64, hash eventstore.Hash)) (position eventstore.Position, events uint64, err error)
}

// Statement is the signed part of a checkpoint.
type Statement struct {
	Format string `json:"format"`
	// KeyID names the key that signed it (see KeyID).
	KeyID string `json:"key_id"`
	// TakenAt is when it was taken (UTC).
	TakenAt time.Time `json:"taken_at"`
	// Position is the global position of the last event it covers
	// (eventstore.Start for an empty store).
	Position eventstore.Position `json:"position"`
	// Events and Streams count the events and streams it covers.
	Events  uint64 `json:"events"`
	Streams uint64 `json:"streams"`
	// HeadsRoot is the Merkle root over the heads (see Root).
	HeadsRoot string `json:"heads_root"`
}

// Head is a stream's last event when the checkpoint was taken.
type Head struct {
	Stream   string          `json:"stream"`
	Revision uint64          `json:"revision"`
	Hash     eventstore.Hash `json:"hash"`
}

// Checkpoint is a signed statement and the heads it covers, as kept in a
// checkpoint file. Use Take to make one and Parse to read one.
type Checkpoint struct {
	Statement Statement `json:"statement"`
	// Signature is Ed25519 over SignedBytes(Statement).
	Signature []byte `json:"signature"`
	// Heads are sorted by stream, one per stream.
	Heads []Head `json:"heads"`
}

// Errors of Parse and Check. Each is wrapped with the detail.
var (
	// ErrMalformed is returned when a checkpoint file cannot be read as one.
	ErrMalformed = errors.New("checkpoint: malformed")
	// ErrWrongKey is returned when a checkpoint was signed by another key.
	ErrWrongKey = errors.New("checkpoint: signed by another key")
	// ErrBadSignature is returned when a checkpoint's signature or heads do
	// not match its statement: the file was edited.
	ErrBadSignature = errors.New("checkpoint: the signature does not verify")
)

// fileHead is a head as a checkpoint file spells it, the hash in hex.
type fileHead struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	Hash     string `json:"hash"`
}

// MarshalJSON writes the hash as lower-case hex.
func (h Head) MarshalJSON() ([]byte, error) {
	return json.Marshal(fileHead{h.Stream, h.Revision, h.Hash.String()})
}

// UnmarshalJSON reads a head written by MarshalJSON.
func (h *Head) UnmarshalJSON(b []byte) error {
	var v fileHead
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	hash, err := eventstore.ParseHash(v.Hash)
	if err != nil {
		return err
	}
	*h = Head{Stream: v.Stream, Revision: v.Revision, Hash: hash}
	return nil
}

// SignedBytes is what a statement's signature covers: the format name, a
// newline, then the statement as JSON with its fields in declaration order
// (encoding/json writes a struct deterministically).
func SignedBytes(st Statement) []byte {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // a Statement always marshals
	}
	return append([]byte(Format+"\n"), b...)
}

// Take returns a checkpoint of the store r reads, signed with key and
// dated now: every stream's head as the store stood at one position (the
// checkpoint's). With a HeadsReader it asks for the heads; otherwise it
// reads every event up to the store's current end (events appended
// meanwhile are included up to the last one read). It signs the hashes as
// stored; Against recomputes every chain when the store is checked later.
func Take(ctx context.Context, r Reader, key ed25519.PrivateKey, now time.Time) (*Checkpoint, error) {
	st := Statement{Format: Format, KeyID: KeyID(key.Public().(ed25519.PublicKey)), TakenAt: now.UTC()}
	var list []Head
	if hr, ok := r.(HeadsReader); ok {
		var err error
		st.Position, st.Events, err = hr.Heads(func(stream string, rev uint64, hash eventstore.Hash) {
			list = append(list, Head{Stream: stream, Revision: rev, Hash: hash})
		})
		if err != nil {
			return nil, fmt.Errorf("checkpoint: reading the store's heads: %w", err)
		}
	} else {
		heads := make(map[string]int)
		for e, err := range r.ReadAll(ctx, eventstore.Start) {
			if err != nil {
				return nil, fmt.Errorf("checkpoint: reading the store: %w", err)
			}
			h := Head{Stream: e.Stream, Revision: e.Revision, Hash: e.Hash}
			if i, ok := heads[e.Stream]; ok {
				list[i] = h
			} else {
				heads[e.Stream] = len(list)
				list = append(list, h)
			}
			st.Position = e.Position
			st.Events++
		}
	}
	slices.SortFunc(list, func(a, b Head) int { return strings.Compare(a.Stream, b.Stream) })
	st.Streams = uint64(len(list))
	st.HeadsRoot = Root(list).String()
	return &Checkpoint{Statement: st, Signature: ed25519.Sign(key, SignedBytes(st)), Heads: list}, nil
}

// Marshal encodes c as a checkpoint file: indented statement, one head
// per line.
func (c *Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	st, _ := json.MarshalIndent(c.Statement, "  ", "  ")
	fmt.Fprintf(&b, "{\n  \"statement\": %s,\n  \"signature\": %q,\n  \"heads\": [", st, base64.StdEncoding.EncodeToString(c.Signature))
	var line []byte
	for i, h := range c.Heads {
		if i > 0 {
			b.WriteByte(',')
		}
		// By hand, as encoding/json would write fileHead: a stream name
		// of plain characters (the ledger's are) needs no escaping.
		line = append(line[:0], "\n    {\"stream\":"...)
		line = appendJSONString(line, h.Stream)
		line = append(line, `,"revision":`...)
		line = strconv.AppendUint(line, h.Revision, 10)
		line = append(line, `,"hash":"`...)
		line = hex.AppendEncode(line, h.Hash[:])
		line = append(line, `"}`...)
		b.Write(line)
	}
	if len(c.Heads) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes()
}

// WriteFile writes c's file (Marshal) to path, mode 0600, through a synced
// temporary file renamed into place: a crash leaves the old file or the
// new one, never half of one.
func WriteFile(path string, c *Checkpoint) error {
	return writeFileAtomic(path, c.Marshal(), true)
}

// appendJSONString appends s as a JSON string, quoted and escaped as
// encoding/json would (its escaping is used for anything but plain
// printable ASCII).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Parse reads a checkpoint file and checks its form: the format, no
// unknown members, heads sorted by stream and unique, their count and
// Merkle root as the statement says. It does not check the signature: see
// Check. A file that fails gives an error wrapping ErrMalformed, or
// ErrBadSignature when its heads do not match its signed root.
func Parse(b []byte) (*Checkpoint, error) {
	// Decoded as plain structs, so that unknown members are refused at
	// every depth (a custom UnmarshalJSON would escape the decoder's check).
	var file struct {
		Statement Statement  `json:"statement"`
		Signature []byte     `json:"signature"`
		Heads     []fileHead `json:"heads"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the checkpoint", ErrMalformed)
	}
	c := Checkpoint{Statement: file.Statement, Signature: file.Signature, Heads: make([]Head, len(file.Heads))}
	for i, h := range file.Heads {
		hash, err := eventstore.ParseHash(h.Hash)
		if err != nil {
			return nil, fmt.Errorf("%w: head of %q: %w", ErrMalformed, h.Stream, err)
		}
		c.Heads[i] = Head{Stream: h.Stream, Revision: h.Revision, Hash: hash}
	}
	st := c.Statement
	switch {
	case st.Format != Format:
		return nil, fmt.Errorf("%w: format %q, this build reads %q", ErrMalformed, st.Format, Format)
	case st.KeyID == "":
		return nil, fmt.Errorf("%w: no key_id", ErrMalformed)
	case len(c.Signature) != ed25519.SignatureSize:
		return nil, fmt.Errorf("%w: the signature has %d bytes, not %d", ErrMalformed, len(c.Signature), ed25519.SignatureSize)
	}
	for i := 1; i < len(c.Heads); i++ {
		if c.Heads[i-1].Stream >= c.Heads[i].Stream {
			return nil, fmt.Errorf("%w: heads out of order or repeated at %q", ErrBadSignature, c.Heads[i].Stream)
		}
	}
	if uint64(len(c.Heads)) != st.Streams {
		return nil, fmt.Errorf("%w: %d heads where the statement signs %d streams", ErrBadSignature, len(c.Heads), st.Streams)
	}
	if root := Root(c.Heads).String(); root != st.HeadsRoot {
		return nil, fmt.Errorf("%w: the heads do not match the signed heads_root", ErrBadSignature)
	}
	return &c, nil
}

// Check verifies c's signature with pub. A checkpoint signed by another
// key gives ErrWrongKey, naming both key ids; an edited statement gives
// ErrBadSignature. (Parse has already tied the heads to the statement.)
func (c *Checkpoint) Check(pub ed25519.PublicKey) error {
	if id := KeyID(pub); c.Statement.KeyID != id {
		return fmt.Errorf("%w: it names key %s, this ledger's key is %s", ErrWrongKey, c.Statement.KeyID, id)
	}
	if !ed25519.Verify(pub, SignedBytes(c.Statement), c.Signature) {
		return fmt.Errorf("%w: the statement was changed after it was signed, or signed by another key", ErrBadSignature)
	}
	return nil
}

// Open parses a checkpoint file and checks its signature with pub: the
// one call to make before trusting anything in it.
func Open(b []byte, pub ed25519.PublicKey) (*Checkpoint, error) {
	c, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if err := c.Check(pub); err != nil {
		return nil, err
	}
	return c, nil
}
