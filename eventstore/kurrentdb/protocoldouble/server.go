package protocoldouble

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options tunes a Server.
type Options struct {
	// MaxAppendSize bounds the bytes of one append (1 MiB, KurrentDB's
	// default, if zero).
	MaxAppendSize int
	// SystemEventEvery, when positive, writes a server event to a "$…"
	// stream after every n appends, as a real node's statistics do.
	SystemEventEvery int
	// Version is the server version reported to the client ("24.10.0" if
	// empty).
	Version string
}

// Record is one event in the double's log.
type Record struct {
	Stream      string
	Revision    uint64
	ID          uuid.UUID
	Type        string
	ContentType string
	Created     time.Time
	Data        []byte
	Metadata    []byte
	// Position is the record's offset in the log: its commit and prepare
	// position.
	Position uint64
}

// epochRecordSize is the size of the record at offset 0 that every log
// starts with, which is not an event.
const epochRecordSize = 128

// Server is a protocol double of one KurrentDB node; see the package doc.
// It is safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	records  []Record
	byPos    map[uint64]int
	streams  map[string][]int
	end      uint64
	appends  int
	changed  chan struct{} // closed and replaced on every write
	dropped  chan struct{} // closed and replaced by DropSubscriptions
	failNext int
	failCode codes.Code
	loseNext int
	before   func(stream string)

	addr string
	srv  *grpc.Server
}

// Start starts a double on a loopback port.
func Start(opts Options) (*Server, error) {
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = 1 << 20
	}
	if opts.Version == "" {
		opts.Version = "24.10.0"
	}
	s := &Server{
		opts:    opts,
		byPos:   map[uint64]int{},
		streams: map[string][]int{},
		end:     epochRecordSize,
		changed: make(chan struct{}),
		dropped: make(chan struct{}),
	}
	for _, name := range []string{"$settings", "$user-admin"} {
		s.writeLocked(name, []proposal{{id: uuid.New(), typ: "$" + strings.TrimPrefix(name, "$"), contentType: "application/json", data: []byte(`{}`)}})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = lis.Addr().String()
	s.serve(lis)
	return s, nil
}

func (s *Server) serve(lis net.Listener) {
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(s.unaryFault), grpc.ChainStreamInterceptor(s.streamFault))
	streams.RegisterStreamsServer(srv, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(srv, &featuresService{s: s})
	gossip.RegisterGossipServer(srv, &gossipService{s: s})
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// Addr is the host:port the double listens on.
func (s *Server) Addr() string { return s.addr }

// ConnectionString is an insecure connection string for the double.
func (s *Server) ConnectionString() string {
	return "esdb://" + s.addr + "?tls=false"
}

// Stop drops every connection and subscription at once, as a node crash or
// a network partition would. The data stays; Restart brings the node back.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

// Restart listens again on the same address after Stop.
func (s *Server) Restart() error {
	var lis net.Listener
	var err error
	// The port can take a moment to be free again after Stop.
	for range 50 {
		if lis, err = net.Listen("tcp", s.addr); err == nil {
			s.serve(lis)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("protocoldouble: restart on %s: %w", s.addr, err)
}

// Close stops the double for good.
func (s *Server) Close() { s.Stop() }

// FailNext makes the next n calls to the streams service fail with code
// before doing anything.
func (s *Server) FailNext(n int, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failCode = n, code
}

// LoseNextReply makes the next successful append store its events but
// answer Unavailable, as if the reply were lost on the network.
func (s *Server) LoseNextReply() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseNext++
}

// BeforeAppend sets a hook run at the start of every append, before the
// expected revision is checked (nil removes it). The hook may call AppendRaw.
func (s *Server) BeforeAppend(fn func(stream string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

// DropSubscriptions ends every subscription in progress with Unavailable;
// the node stays up.
func (s *Server) DropSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.dropped)
	s.dropped = make(chan struct{})
}

// RawEvent is an event for AppendRaw.
type RawEvent struct {
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
}

// AppendRaw appends events to stream with expected revision any, bypassing
// gRPC, as another client of the node would. It returns the stream's last
// revision.
func (s *Server) AppendRaw(stream string, events ...RawEvent) uint64 {
	ps := make([]proposal, len(events))
	for i, e := range events {
		id := e.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		ps[i] = proposal{id: id, typ: e.Type, contentType: "application/json", data: e.Data, meta: e.Metadata}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(stream, ps)
}

// Records returns a copy of the log's events in $all order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// Tamper replaces the data of the event at revision rev of stream, as an
// attacker with disk access might.
func (s *Server) Tamper(stream string, rev uint64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[s.streams[stream][rev]].Data = data
}

type proposal struct {
	id          uuid.UUID
	typ         string
	contentType string
	data, meta  []byte
}

// writeLocked appends ps to stream as one transaction and returns the
// stream's last revision. Every event is its own record whose offset is its
// commit and prepare position.
func (s *Server) writeLocked(stream string, ps []proposal) uint64 {
	idx := s.streams[stream]
	now := time.Now().UTC()
	for _, p := range ps {
		r := Record{
			Stream: stream, Revision: uint64(len(idx)), ID: p.id, Type: p.typ, ContentType: p.contentType,
			Created: now, Data: p.data, Metadata: p.meta, Position: s.end,
		}
		// A record's size on disk: a header plus its variable parts.
		s.end += uint64(88 + len(stream) + len(p.typ) + len(p.data) + len(p.meta))
		s.byPos[r.Position] = len(s.records)
		idx = append(idx, len(s.records))
		s.records = append(s.records, r)
	}
	s.streams[stream] = idx
	close(s.changed)
	s.changed = make(chan struct{})
	return uint64(len(idx) - 1)
}

func (s *Server) takeFault() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return status.Error(s.failCode, "protocol double: injected failure")
	}
	return nil
}

func (s *Server) unaryFault(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if strings.Contains(info.FullMethod, ".streams.Streams/") {
		if err := s.takeFault(); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

func (s *Server) streamFault(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if strings.Contains(info.FullMethod, ".streams.Streams/") {
		if err := s.takeFault(); err != nil {
			return err
		}
	}
	return handler(srv, ss)
}
