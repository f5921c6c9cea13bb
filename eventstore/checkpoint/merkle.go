package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/imattertraining/ledger/eventstore"
)

// Root is the Merkle root over heads, in their order, built as RFC 6962
// (Certificate Transparency) builds its tree: a leaf is SHA-256 of 0x00 and
// the head's encoding (stream length as 4 bytes big-endian, stream,
// revision as 8 bytes big-endian, hash), a node SHA-256 of 0x01 and its
// two children, the left subtree being the largest power of two smaller
// than the whole. No heads give SHA-256 of nothing. A tree (rather than one
// hash over every head) lets a single stream's head be proven later with a
// path of log2(n) hashes.
func Root(heads []Head) eventstore.Hash {
	if len(heads) == 0 {
		return sha256.Sum256(nil)
	}
	level := make([]eventstore.Hash, len(heads))
	var buf []byte
	for i, h := range heads {
		buf = append(buf[:0], 0)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(h.Stream)))
		buf = append(buf, h.Stream...)
		buf = binary.BigEndian.AppendUint64(buf, h.Revision)
		buf = append(buf, h.Hash[:]...)
		level[i] = sha256.Sum256(buf)
	}
	return subtree(level)
}

// subtree returns the root over leaves as RFC 6962 splits them.
func subtree(leaves []eventstore.Hash) eventstore.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := subtree(leaves[:k]), subtree(leaves[k:])
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}
