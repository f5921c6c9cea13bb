package protocoldouble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type streamsService struct {
	streams.UnimplementedStreamsServer
	s *Server
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func uuidFromProto(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(st.MostSignificantBits))
		binary.BigEndian.PutUint64(b[8:], uint64(st.LeastSignificantBits))
		return uuid.UUID(b), nil
	}
	return uuid.Parse(u.GetString_())
}

func uuidToProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

// Append implements Streams.Append.
func (d *streamsService) Append(stream streams.Streams_AppendServer) error {
	head, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := head.GetOptions()
	if opts == nil {
		return invalid("the first append message must carry the options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	var ps []proposal
	size := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := req.GetProposedMessage()
		if pm == nil {
			return invalid("expected a proposed message")
		}
		id, err := uuidFromProto(pm.GetId())
		if err != nil {
			return invalid("event id: %v", err)
		}
		for _, k := range []string{"type", "content-type"} {
			if _, ok := pm.GetMetadata()[k]; !ok {
				return invalid("Required Metadata Property '%s' is missing", k)
			}
		}
		typ := pm.GetMetadata()["type"]
		size += len(typ) + len(pm.GetData()) + len(pm.GetCustomMetadata())
		if size > d.s.opts.MaxAppendSize {
			return invalid("Maximum Append Size of %d Exceeded.", d.s.opts.MaxAppendSize)
		}
		ps = append(ps, proposal{id: id, typ: typ, contentType: pm.GetMetadata()["content-type"], data: pm.GetData(), meta: pm.GetCustomMetadata()})
	}

	d.s.mu.Lock()
	hook := d.s.before
	d.s.mu.Unlock()
	if hook != nil {
		hook(name)
	}

	d.s.mu.Lock()
	resp := d.s.appendLocked(name, opts, ps)
	lose := false
	if resp.GetSuccess() != nil && d.s.loseNext > 0 {
		d.s.loseNext--
		lose = true
	}
	d.s.mu.Unlock()
	if lose {
		return status.Error(codes.Unavailable, "protocol double: the append was stored but its reply is lost")
	}
	return stream.SendAndClose(resp)
}

// appendLocked checks the expected revision and writes ps, KurrentDB's way.
func (s *Server) appendLocked(name string, opts *streams.AppendReq_Options, ps []proposal) *streams.AppendResp {
	idx := s.streams[name]
	exists := len(idx) > 0
	cur := uint64(len(idx)) - 1 // meaningless when !exists

	// KurrentDB's own idempotency: the same events appended again with the
	// same exact (or no-stream) expected revision succeed without writing.
	var after int64 = -2
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		after = int64(o.Revision)
	case *streams.AppendReq_Options_NoStream:
		after = -1
	}
	if after >= -1 && len(ps) > 0 && int(after+1)+len(ps) <= len(idx) {
		same := true
		for i, p := range ps {
			if s.records[idx[int(after+1)+i]].ID != p.id {
				same = false
				break
			}
		}
		if same {
			last := s.records[idx[int(after)+len(ps)]]
			return success(last.Revision, last.Position)
		}
	}

	ok := false
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		ok = true
	case *streams.AppendReq_Options_NoStream:
		ok = !exists
	case *streams.AppendReq_Options_StreamExists:
		ok = exists
	case *streams.AppendReq_Options_Revision:
		ok = exists && cur == o.Revision
	}
	if !ok {
		return wrongExpectedVersion(opts, cur, exists)
	}
	if len(ps) == 0 {
		if !exists {
			return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
				CurrentRevisionOption: &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
				PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}}
		}
		return success(cur, s.records[idx[cur]].Position)
	}
	last := s.writeLocked(name, ps)
	pos := s.records[len(s.records)-1].Position
	s.appends++
	if n := s.opts.SystemEventEvery; n > 0 && s.appends%n == 0 {
		s.writeLocked("$statistics-"+s.addr, []proposal{{id: uuid.New(), typ: "$statsCollected", contentType: "application/json", data: []byte(`{"proc-cpu":0}`)}})
	}
	// The reply carries one position for the whole append; the double gives
	// its last event's (clients must not assume which record it names).
	return success(last, pos)
}

func success(rev, pos uint64) *streams.AppendResp {
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_CurrentRevision{CurrentRevision: rev},
		PositionOption: &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: pos, PreparePosition: pos,
		}},
	}}}
}

func wrongExpectedVersion(opts *streams.AppendReq_Options, cur uint64, exists bool) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	empty := &shared.Empty{}
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: empty}
	case *streams.AppendReq_Options_StreamExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: empty}
	case *streams.AppendReq_Options_NoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	case *streams.AppendReq_Options_Revision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: o.Revision}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: o.Revision}
	}
	if exists {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: cur}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: cur}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: empty}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: empty}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

// toReadEvent renders r as the server sends it: the "type", "content-type"
// and "created" (ticks of 100ns since the Unix epoch) properties, and
// commit == prepare == the record's offset.
func toReadEvent(r Record, uuidAsString bool) *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               uuidToProto(r.ID, uuidAsString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.Stream)},
			StreamRevision:   r.Revision,
			PreparePosition:  r.Position,
			CommitPosition:   r.Position,
			Metadata: map[string]string{
				"type":         r.Type,
				"content-type": r.ContentType,
				"created":      strconv.FormatInt(r.Created.UnixNano()/100, 10),
			},
			CustomMetadata: r.Metadata,
			Data:           r.Data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.Position},
	}}}
}

// matcher is a subscription's or read's filter.
type matcher func(Record) bool

func filterOf(o *streams.ReadReq_Options) (matcher, uint64, error) {
	f := o.GetFilter()
	if f == nil {
		return func(Record) bool { return true }, 0, nil
	}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	field := func(r Record) string { return r.Stream }
	switch {
	case f.GetStreamIdentifier() != nil:
		expr = f.GetStreamIdentifier()
	case f.GetEventType() != nil:
		expr = f.GetEventType()
		field = func(r Record) string { return r.Type }
	default:
		return nil, 0, invalid("a filter needs a stream identifier or an event type expression")
	}
	var m matcher
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, 0, invalid("filter regex: %v", err)
		}
		m = func(r Record) bool { return re.MatchString(field(r)) }
	} else {
		prefixes := expr.GetPrefix()
		m = func(r Record) bool {
			for _, p := range prefixes {
				if strings.HasPrefix(field(r), p) {
					return true
				}
			}
			return false
		}
	}
	// A checkpoint is due every window × multiplier events considered.
	window := uint64(f.GetMax())
	if f.GetCount() != nil || window == 0 {
		window = 32
	}
	every := window * uint64(max(f.GetCheckpointIntervalMultiplier(), 1))
	return m, every, nil
}

// Read implements Streams.Read: stream and $all reads with a count, and
// catch-up subscriptions to $all.
func (d *streamsService) Read(req *streams.ReadReq, out streams.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return invalid("'options' is a required argument")
	}
	if o.GetUuidOption() == nil {
		return invalid("'uuidOption' is a required argument")
	}
	asString := o.GetUuidOption().GetString_() != nil
	match, every, err := filterOf(o)
	if err != nil {
		return err
	}
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	switch {
	case o.GetSubscription() != nil && o.GetAll() != nil && !backwards:
		return d.subscribeAll(o.GetAll(), match, every, o.GetFilter() != nil, asString, out)
	case o.GetSubscription() != nil:
		return invalid("The combination of (%T, subscription, %v) is invalid.", o.GetStreamOption(), o.GetReadDirection())
	case o.GetStream() != nil:
		if o.GetFilter() != nil {
			return invalid("stream reads take no filter")
		}
		return d.readStream(o.GetStream(), o.GetCount(), backwards, asString, out)
	case o.GetAll() != nil:
		return d.readAll(o.GetAll(), o.GetCount(), backwards, match, asString, out)
	}
	return invalid("a read needs a stream or $all")
}

func (d *streamsService) readStream(so *streams.ReadReq_Options_StreamOptions, count uint64, backwards, asString bool, out streams.Streams_ReadServer) error {
	name := string(so.GetStreamIdentifier().GetStreamName())
	s := d.s
	s.mu.Lock()
	idx := s.streams[name]
	var page []Record
	if len(idx) > 0 {
		last := uint64(len(idx) - 1)
		// Start is revision 0 and End the largest revision, in both
		// directions: forwards from End reads nothing, backwards from a
		// revision past the end starts at the last event.
		from := so.GetRevision()
		switch {
		case so.GetStart() != nil:
			from = 0
		case so.GetEnd() != nil:
			from = ^uint64(0)
		}
		if backwards {
			for r := min(from, last); uint64(len(page)) < count; r-- {
				page = append(page, s.records[idx[r]])
				if r == 0 {
					break
				}
			}
		} else {
			for r := from; r <= last && uint64(len(page)) < count; r++ {
				page = append(page, s.records[idx[r]])
			}
		}
	}
	exists := len(s.streams[name]) > 0
	s.mu.Unlock()
	if !exists {
		return out.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	for _, r := range page {
		if err := out.Send(toReadEvent(r, asString)); err != nil {
			return err
		}
	}
	return nil
}

// allStart resolves where an $all read or subscription begins: the index of
// the first record at or after the position. A position must be 0, the
// offset of a record, or past the last record.
func (s *Server) allStartLocked(ao *streams.ReadReq_Options_AllOptions) (int, error) {
	switch {
	case ao.GetStart() != nil:
		return 0, nil
	case ao.GetEnd() != nil:
		return len(s.records), nil
	}
	p := ao.GetPosition()
	if p == nil {
		return 0, invalid("an $all position is required")
	}
	if p.GetCommitPosition() != p.GetPreparePosition() {
		return 0, status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
	}
	pos := p.GetCommitPosition()
	if i, ok := s.byPos[pos]; ok {
		return i, nil
	}
	if pos == 0 {
		return 0, nil
	}
	if len(s.records) == 0 || pos > s.records[len(s.records)-1].Position {
		return len(s.records), nil
	}
	return 0, status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
}

func (d *streamsService) readAll(ao *streams.ReadReq_Options_AllOptions, count uint64, backwards bool, match matcher, asString bool, out streams.Streams_ReadServer) error {
	s := d.s
	s.mu.Lock()
	start, err := s.allStartLocked(ao)
	var page []Record
	if err == nil {
		if backwards {
			// Backward reads return the records before the position.
			for i := start - 1; i >= 0 && uint64(len(page)) < count; i-- {
				if match(s.records[i]) {
					page = append(page, s.records[i])
				}
			}
		} else {
			for i := start; i < len(s.records) && uint64(len(page)) < count; i++ {
				if match(s.records[i]) {
					page = append(page, s.records[i])
				}
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, r := range page {
		if err := out.Send(toReadEvent(r, asString)); err != nil {
			return err
		}
	}
	return nil
}

// subscribeAll runs a catch-up subscription to $all: confirmation, the
// stored events after the start (with checkpoints when filtered), CaughtUp,
// then live events until the client leaves or the node stops.
func (d *streamsService) subscribeAll(ao *streams.ReadReq_Options_AllOptions, match matcher, every uint64, filtered, asString bool, out streams.Streams_ReadServer) error {
	s := d.s
	if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	s.mu.Lock()
	next, err := s.allStartLocked(ao)
	// A subscription from a position starts after the record there.
	if err == nil && ao.GetPosition() != nil && next < len(s.records) && s.records[next].Position == ao.GetPosition().GetCommitPosition() {
		next++
	}
	dropped := s.dropped
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ctx := out.Context()
	var considered uint64
	caughtUp := false
	for {
		s.mu.Lock()
		batch := append([]Record(nil), s.records[next:]...)
		changed := s.changed
		end := s.end
		s.mu.Unlock()
		next += len(batch)
		for i, r := range batch {
			considered++
			if match(r) {
				if err := out.Send(toReadEvent(r, asString)); err != nil {
					return err
				}
			}
			if filtered && every > 0 && considered%every == 0 {
				// The server's checkpoint names where its reader goes on
				// from: the next record, not the one just considered.
				nextPos := end
				if i+1 < len(batch) {
					nextPos = batch[i+1].Position
				}
				if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
					CommitPosition: nextPos, PreparePosition: nextPos,
				}}}); err != nil {
					return err
				}
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-dropped:
			return status.Error(codes.Unavailable, "protocol double: subscription dropped")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) String() string { return fmt.Sprintf("protocoldouble(%s)", s.addr) }
