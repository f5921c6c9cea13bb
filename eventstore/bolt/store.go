package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/imattertraining/ledger/eventstore"
)

// Bucket names. Each is a top-level bucket of the one bbolt file.
var (
	// bucketEvents maps a global position (8 bytes) to the event's record.
	bucketEvents = []byte("events")
	// bucketMeta holds the file's format version and store-wide counters.
	bucketMeta = []byte("meta")
	// bucketStreamsV2 is format 2's on-disk stream index, which format 3
	// keeps in memory instead (see streamIndex); opening a format 2 file
	// deletes it.
	bucketStreamsV2 = []byte("streams")
)

// Keys of bucketMeta.
var (
	metaFormat = []byte("format")
	// metaLastAt is the greatest recorded time stored (Unix nanoseconds), from
	// which the clock is kept strictly increasing across restarts.
	metaLastAt = []byte("last_recorded_at")
	// metaLastPos is the last position stored, written with every commit, so
	// that Open can tell events missing from the end of the events bucket
	// from events never written.
	metaLastPos = []byte("last_position")
)

// fileFormat is the version of the bucket layout; a file written with
// another is refused rather than misread, except format 2, which differs only
// by its on-disk stream index and is upgraded when opened.
const (
	fileFormat   uint32 = 3
	fileFormatV2 uint32 = 2
)

// Default limits. An event larger than a few megabytes is not a fact about a
// practitioner but a mistake (or an attack), and one oversized append would
// stall every writer queued behind it.
const (
	DefaultMaxEventBytes   = 4 << 20
	DefaultMaxAppendBytes  = 32 << 20
	DefaultMaxAppendEvents = 10_000
	// Limits on the envelope's strings: generous for names and dates, small
	// enough that keys stay far below bbolt's 32 KiB key limit.
	maxStreamBytes     = 1024
	maxTypeBytes       = 256
	maxOccurredOnBytes = 64
	maxRecordedByBytes = 1024
)

// Options tunes a Store. The zero value is a durable store on the real clock.
type Options struct {
	// Clock gives the time recorded for each event; time.Now when nil. Tests
	// set it to make recorded times predictable.
	Clock func() time.Time
	// LockTimeout bounds the wait for the file's lock when another process
	// holds it; 10 seconds when zero, forever when negative.
	LockTimeout time.Duration
	// MaxEventBytes bounds an event's data plus metadata
	// (DefaultMaxEventBytes when zero).
	MaxEventBytes int
	// MaxAppendBytes bounds the data plus metadata of one append
	// (DefaultMaxAppendBytes when zero).
	MaxAppendBytes int
	// MaxAppendEvents bounds the number of events in one append
	// (DefaultMaxAppendEvents when zero).
	MaxAppendEvents int
	// ReadChunk is how many events a read transaction takes at a time in
	// ReadAll and Subscribe (1024 when zero).
	ReadChunk int
	// InitialMmapSize is passed to bbolt: mapping more than the file needs up
	// front spares the writer from waiting for readers when the file grows.
	InitialMmapSize int
	// NoFreelistSync is passed to bbolt: commits write less, but opening a
	// large file scans it to rebuild the freelist, in a goroutine of bbolt's
	// where a damaged page crashes the process instead of failing Open.
	NoFreelistSync bool
	// GroupCommitWait bounds how long the writer holds a round open for the
	// appenders its last commit answered to come back with their next
	// append (see the writer). Zero: as long as the last commit took, at
	// most 2ms. Negative: never hold; a round starts with whatever queued.
	GroupCommitWait time.Duration
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = 10 * time.Second
	}
	if o.LockTimeout < 0 {
		o.LockTimeout = 0
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = DefaultMaxEventBytes
	}
	if o.MaxAppendBytes <= 0 {
		o.MaxAppendBytes = DefaultMaxAppendBytes
	}
	if o.MaxAppendEvents <= 0 {
		o.MaxAppendEvents = DefaultMaxAppendEvents
	}
	if o.ReadChunk <= 0 {
		o.ReadChunk = 1024
	}
	return o
}

// Store is the embedded event store: one bbolt file, one writer goroutine
// that group-commits every queued append, and any number of readers. It
// implements eventstore.Store and is safe for concurrent use by multiple
// goroutines.
type Store struct {
	db    *bbolt.DB
	opts  Options
	hooks *testHooks

	// mu guards queue, closing, notify and indexed.
	mu      sync.Mutex
	queue   []*appendRequest
	closing bool
	// notify is closed and replaced to wake every live subscription at
	// once, after a commit that stored events: not at once, but when the
	// writer next waits on the disk or has nothing to do (see
	// Store.wakeSubscriptions).
	notify chan struct{}
	// indexed is closed and replaced as soon as a commit is in the
	// stream index, for readers that saw the commit before the index did.
	indexed chan struct{}
	// unannounced says a commit stored events the subscriptions have not
	// been woken for. Only the writer uses it.
	unannounced bool

	// wake tells the writer that the queue is not empty (or that the store
	// is closing); one pending signal is enough.
	wake       chan struct{}
	writerDone chan struct{}
	// closed is closed once the writer has stopped, ending subscriptions.
	closed chan struct{}

	// idx is the stream index, rebuilt from the events at Open.
	idx *streamIndex
	// damage is what Open found wrong (see Damage); it does not change.
	damage error

	// arena is the writer's buffer for keys and values, reused by each
	// batch once the previous one has committed. Only the writer uses it.
	arena []byte
}

var _ eventstore.Store = (*Store)(nil)

// Open opens (creating it if needed) the store in the bbolt file at path,
// typically <data dir>/events.db, and starts its writer. A damaged file gives
// an error wrapping eventstore.ErrCorrupt; a file locked by another process
// gives an error after Options.LockTimeout.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, nil)
}

// testHooks let the package's tests hold the writer at chosen points and
// inject failures that a healthy disk never gives. Production stores have
// none.
type testHooks struct {
	// queued is called after an append is queued, with the queue's length.
	queued func(n int)
	// beforeCommit is called before each commit with the number of requests
	// in the batch; an error fails the commit.
	beforeCommit func(n int) error
	// write is called before an append's events are written; an error fails
	// the write half-way, after its first event.
	write func(stream string) error
	// afterCommit is called once a commit is on disk, before the index
	// takes it.
	afterCommit func()
	// gathering is called when the writer holds a round open, with the
	// queue's length and the length it waits for.
	gathering func(queued, target int)
}

func open(path string, opts Options, hooks *testHooks) (s *Store, err error) {
	opts = opts.withDefaults()
	bopts := &bbolt.Options{
		Timeout:         opts.LockTimeout,
		FreelistType:    bbolt.FreelistMapType,
		NoFreelistSync:  opts.NoFreelistSync,
		InitialMmapSize: opts.InitialMmapSize,
		NoStatistics:    true,
	}
	// bbolt does not close the file when it panics on a damaged one; keep
	// it to release here, or the failed Open would hold the file's lock.
	var file *os.File
	bopts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	if err := checkLength(path); err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	var db *bbolt.DB
	err = guard("opening "+path, func() error {
		var err error
		db, err = bbolt.Open(path, 0o600, bopts)
		return err
	})
	if err != nil {
		if file != nil {
			releaseFile(file)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			err = fmt.Errorf("%w: %w", eventstore.ErrCorrupt, err)
		}
		if errors.Is(err, berrors.ErrTimeout) {
			err = fmt.Errorf("%w (is another ledger process using it?)", err)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	// Commits must reach the disk before an append is acknowledged; say so
	// even though it is bbolt's default, so that no option can turn it off.
	db.NoSync = false

	s = &Store{
		db:         db,
		opts:       opts,
		hooks:      hooks,
		notify:     make(chan struct{}),
		indexed:    make(chan struct{}),
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		closed:     make(chan struct{}),
	}
	if err := s.init(); err != nil {
		_ = guard("closing after a failed open", db.Close)
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if s.idx, err = buildIndex(db); err != nil {
		_ = guard("closing after a failed open", db.Close)
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s.damage = s.idx.summary()
	go s.writer()
	return s, nil
}

// init creates the buckets of a new file, checks the format of an existing
// one and that its last position can be read. It writes to an existing file
// only to upgrade format 2 (a damaged freelist would make bbolt write over
// live pages, so a file that is only read is not written).
func (s *Store) init() error {
	fresh, upgrade := false, false
	return guard("initialising", func() error {
		err := s.db.View(func(tx *bbolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				if tx.Bucket(bucketEvents) != nil {
					return corruptf("the meta bucket is missing")
				}
				fresh = true
				return nil
			}
			f := meta.Get(metaFormat)
			if len(f) != 4 {
				return corruptf("format version of %d bytes", len(f))
			}
			switch v := binary.BigEndian.Uint32(f); v {
			case fileFormat:
			case fileFormatV2:
				upgrade = true
			default:
				return fmt.Errorf("bolt: file format %d, this build reads %d", v, fileFormat)
			}
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			_, err = lastPosition(b.events)
			return err
		})
		switch {
		case err != nil:
			return err
		case upgrade:
			return s.db.Update(func(tx *bbolt.Tx) error {
				if tx.Bucket(bucketStreamsV2) != nil {
					if err := tx.DeleteBucket(bucketStreamsV2); err != nil {
						return fmt.Errorf("upgrading from format 2: %w", err)
					}
				}
				b, err := openBuckets(tx)
				if err != nil {
					return err
				}
				last, err := lastPosition(b.events)
				if err != nil {
					return err
				}
				if err := b.meta.Put(metaLastPos, appendPositionKey(nil, last)); err != nil {
					return err
				}
				return b.meta.Put(metaFormat, binary.BigEndian.AppendUint32(nil, fileFormat))
			})
		case fresh:
			return s.db.Update(func(tx *bbolt.Tx) error {
				for _, name := range [][]byte{bucketEvents, bucketMeta} {
					if _, err := tx.CreateBucket(name); err != nil {
						return fmt.Errorf("creating bucket %s: %w", name, err)
					}
				}
				return tx.Bucket(bucketMeta).Put(metaFormat, binary.BigEndian.AppendUint32(nil, fileFormat))
			})
		}
		return nil
	})
}

// buckets are the store's buckets within one transaction.
type buckets struct {
	events, meta *bbolt.Bucket
}

func openBuckets(tx *bbolt.Tx) (buckets, error) {
	b := buckets{
		events: tx.Bucket(bucketEvents),
		meta:   tx.Bucket(bucketMeta),
	}
	if b.events == nil || b.meta == nil {
		return b, corruptf("a bucket is missing")
	}
	return b, nil
}

// lastPosition returns the position of the last event stored (Start if none).
func lastPosition(events *bbolt.Bucket) (eventstore.Position, error) {
	k, _ := events.Cursor().Last()
	if k == nil {
		return eventstore.Start, nil
	}
	return parsePosition(k)
}

// Close finishes the appends already queued, stops the writer, ends every
// subscription with eventstore.ErrClosed and closes the file. Every later
// call, Close included, returns eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return eventstore.ErrClosed
	}
	s.closing = true
	s.mu.Unlock()
	s.signal()
	<-s.writerDone
	close(s.closed)
	// bbolt's Close waits for read transactions in flight to end.
	return guard("closing", s.db.Close)
}

// isClosing reports whether Close has begun.
func (s *Store) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// dbErr turns bbolt's errors into the store's: a closed database is
// eventstore.ErrClosed.
func dbErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return err
}

// checkLength refuses a file cut short: one whose valid meta page says
// its pages run further than the file does. bbolt would fail on it with an
// error about whichever page it met first beyond the end (often "invalid
// freelist page"); this names what is missing. A file bbolt grew ahead of
// its pages and that lost only that unused tail is fine. A file too short
// to hold its meta pages, or whose meta pages are both invalid, is left
// for bbolt to refuse.
func checkLength(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var best *boltMeta
	for _, off := range []int64{0, -1} {
		buf := make([]byte, metaBytes)
		if off < 0 {
			// The second meta page is one page in; its size is in the first,
			// or, if that is damaged, the OS page size is bbolt's default.
			off = int64(os.Getpagesize())
			if best != nil {
				off = int64(best.pageSize)
			}
		}
		if _, err := f.ReadAt(buf, off); err != nil {
			continue
		}
		if m, ok := parseBoltMeta(buf); ok && (best == nil || m.txid > best.txid) {
			best = &m
		}
	}
	if best == nil {
		return nil
	}
	want := int64(best.pgid) * int64(best.pageSize)
	if st.Size() >= want {
		return nil
	}
	first := st.Size() / int64(best.pageSize)
	return corruptf("the file was cut short: it is %d bytes, but its pages run to %d bytes; bytes %d to %d (pages %d to %d) are missing, and with them events that cannot be named: restore from a backup",
		st.Size(), want, st.Size(), want, first, best.pgid-1)
}

// A bbolt meta page, as far as checkLength reads it: after the 16-byte page
// header, magic, version, page size and flags (4 bytes each), the root
// bucket (16), the freelist page, the high-water page id and the
// transaction id (8 each), and an FNV-1a checksum of all that, in the
// machine's byte order (little-endian on every platform the ledger runs on).
const (
	metaBytes    = 16 + 64
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
	metaOffPgid  = 16 + 40
	metaOffTxid  = 16 + 48
	metaOffCheck = 16 + 56
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	le := binary.LittleEndian
	if le.Uint32(b[16:]) != boltMagic || le.Uint32(b[20:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(b[16:metaOffCheck])
	if h.Sum64() != le.Uint64(b[metaOffCheck:]) {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: le.Uint32(b[24:]), pgid: le.Uint64(b[metaOffPgid:]), txid: le.Uint64(b[metaOffTxid:])}
	return m, m.pageSize >= 512
}

// Damage returns what Open found wrong with the file (nil when nothing),
// naming no stream; see eventstore.SelfChecker. It does not change while
// the store is open.
func (s *Store) Damage() error { return s.damage }

// Account returns the store's own account of what it holds: the last
// position its meta bucket records, and each stream's head and damage from
// the index built at Open; see eventstore.SelfChecker.
func (s *Store) Account(ctx context.Context) (eventstore.Account, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Account{}, err
	}
	h := eventstore.Account{Streams: make(map[string]eventstore.Head)}
	// The index first: the meta read after it records at least as much.
	s.idx.mu.RLock()
	h.Damage = s.idx.damaged
	for name, e := range s.idx.streams {
		head := eventstore.Head{Hash: e.lastHash, Damage: e.damaged}
		if n := len(e.positions); n > 0 {
			head.Revision = uint64(n - 1)
		}
		h.Streams[name] = head
	}
	s.idx.mu.RUnlock()
	err := guard("reading the last position", func() error {
		return dbErr(s.db.View(func(tx *bbolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			if v := b.meta.Get(metaLastPos); v != nil {
				h.Last, err = parsePosition(v)
			}
			return err
		}))
	})
	return h, err
}

var _ eventstore.SelfChecker = (*Store)(nil)

// noSpace classifies a failed write: a full disk (ENOSPC) or a used-up
// quota (EDQUOT) becomes eventstore.ErrNoSpace, which a caller can answer
// with "retry later" rather than as an internal failure; anything else is
// returned as it is. bbolt keeps the errno in the chain of a failed page
// write or fdatasync, but only its text when growing the file fails ("file
// resize error: %s"), so the text is matched too.
func noSpace(err error) error {
	if err == nil || errors.Is(err, eventstore.ErrNoSpace) {
		return err
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error()) {
			return fmt.Errorf("%w: %w", eventstore.ErrNoSpace, err)
		}
	}
	return err
}

// Path returns the file the store is in.
func (s *Store) Path() string { return s.db.Path() }
