package merkle

import (
	"github.com/thinkey/thinkey/crypto/hash"
)

// Domain bytes prefixed to every hashed input, so that a leaf, an inner node
// and the empty tree can never hash the same preimage.
const (
	leafDomain  byte = 0x00
	innerDomain byte = 0x01
	emptyDomain byte = 0x02
)

// innerInputSize is the length of an inner node's preimage: the domain byte
// and two child digests.
const innerInputSize = 1 + 2*hash.Size

// LeafHash returns the leaf digest of data: SHA-256(0x00 || data).
func LeafHash(data []byte) hash.Digest {
	var scratch []byte
	return leafHash(&scratch, data)
}

// leafHash hashes 0x00 || data through *scratch, which it grows as needed,
// so that hashing many leaves reuses one preimage buffer.
func leafHash(scratch *[]byte, data []byte) hash.Digest {
	buf := append((*scratch)[:0], leafDomain)
	buf = append(buf, data...)
	*scratch = buf
	return hash.Sum256(buf)
}

// EmptyRoot returns the root of a tree with no leaves: SHA-256(0x02).
func EmptyRoot() hash.Digest {
	return hash.Sum256([]byte{emptyDomain})
}

// Root returns the root of the tree whose leaves are the leaf hashes of
// leaves, in order.
func Root(leaves [][]byte) hash.Digest {
	hashes := make([]hash.Digest, len(leaves))
	var scratch []byte
	for i, leaf := range leaves {
		hashes[i] = leafHash(&scratch, leaf)
	}
	return reduceInPlace(hashes, newInnerHasher())
}

// RootFromLeafHashes returns the root of the tree over already hashed leaves
// (see [LeafHash]). The input slice is not modified.
func RootFromLeafHashes(leafHashes []hash.Digest) hash.Digest {
	if len(leafHashes) == 0 {
		return EmptyRoot()
	}
	level := make([]hash.Digest, len(leafHashes))
	copy(level, leafHashes)
	return reduceInPlace(level, newInnerHasher())
}

// innerHasher hashes inner nodes through one reused preimage buffer. The
// backend is called through a function value, so a buffer on the stack would
// escape and cost one allocation per node; one heap buffer per tree avoids it.
type innerHasher struct {
	buf []byte
}

func newInnerHasher() innerHasher {
	buf := make([]byte, innerInputSize)
	buf[0] = innerDomain
	return innerHasher{buf: buf}
}

// node returns SHA-256(0x01 || left || right).
func (h innerHasher) node(left, right *hash.Digest) hash.Digest {
	copy(h.buf[1:], left[:])
	copy(h.buf[1+hash.Size:], right[:])
	return hash.Sum256(h.buf)
}

// nextLevel writes the parents of level into its own prefix and returns
// them.
func (h innerHasher) nextLevel(level []hash.Digest) []hash.Digest {
	return h.parents(level, level)
}

// parents writes the parent level of level into dst and returns it: pairs
// (0,1), (2,3), ... are hashed and an odd last node is promoted unchanged.
// dst needs room for (len(level)+1)/2 digests and may be level itself, since
// parent i/2 is written only after children i and i+1 are read.
func (h innerHasher) parents(dst, level []hash.Digest) []hash.Digest {
	n := len(level)
	for i := 0; i+1 < n; i += 2 {
		dst[i/2] = h.node(&level[i], &level[i+1])
	}
	if n%2 == 1 {
		dst[n/2] = level[n-1]
	}
	return dst[:(n+1)/2]
}

// reduceInPlace returns the root of level, overwriting level.
func reduceInPlace(level []hash.Digest, h innerHasher) hash.Digest {
	if len(level) == 0 {
		return EmptyRoot()
	}
	for len(level) > 1 {
		level = h.nextLevel(level)
	}
	return level[0]
}
